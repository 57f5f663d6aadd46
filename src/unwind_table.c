// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unwind tables: libdw interprets an object's call frame information, and we
 * keep of it only what a frame walk in BPF needs, one compact row per change.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "stop.h"
#include "target_file.h"
#include "unwind_table.h"

/* .eh_frame_hdr pointer encodings (the LSB Core spec's DW_EH_PE_*). */
#define EH_PE_OMIT 0xff
#define EH_PE_DATAREL_SDATA4 0x3b

struct builder {
	struct lt_unwind_row *rows;
	size_t nr, cap;
};

static int builder__push(struct builder *b, const struct lt_unwind_row *r)
{
	struct lt_unwind_row *last = b->nr ? &b->rows[b->nr - 1] : NULL, *grown;

	if (last && last->pc == r->pc) {
		/* An FDE starts where the previous one's gap row is: that row holds nowhere. */
		b->nr--;
		last = b->nr ? &b->rows[b->nr - 1] : NULL;
	}
	if (last && last->cfa == r->cfa && last->cfa_off == r->cfa_off && last->fp == r->fp &&
	    last->fp_off8 == r->fp_off8)
		return 0; /* the same rule goes on: the earlier row covers pc too */
	if (b->nr == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		grown = realloc(b->rows, b->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		b->rows = grown;
	}
	b->rows[b->nr++] = *r;
	return 0;
}

/*
 * x86-64's PLT CFA: DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_litN;
 * DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus (sp + 8, + 8 past the push of its entry),
 * registers 7 and 16 being the stack pointer and the return address column.
 */
static bool is_plt_cfa(const Dwarf_Op *ops, size_t nops, int *threshold)
{
	static const uint8_t plt[] = { DW_OP_breg0 + ARCH_DWARF_SP,
				       DW_OP_breg0 + ARCH_DWARF_RA,
				       DW_OP_lit15,
				       DW_OP_and,
				       0,
				       DW_OP_ge,
				       DW_OP_lit3,
				       DW_OP_shl,
				       DW_OP_plus };

	if (nops != sizeof(plt) || ops[0].number != 8 || ops[1].number != 0)
		return false;
	for (size_t i = 0; i < nops; i++) {
		if (plt[i] && ops[i].atom != plt[i])
			return false;
	}
	if (ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit31)
		return false;
	*threshold = ops[4].atom - DW_OP_lit0;
	return true;
}

/* A register saved at CFA + *off, the only rule of a saved register we follow. */
static bool saved_at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops < 1 || nops > 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 2 && ops[1].atom != DW_OP_plus_uconst)
		return false;
	*off = nops == 2 ? (int64_t)ops[1].number : 0;
	return true;
}

static void row_cfa(Dwarf_Frame *frame, struct lt_unwind_row *r)
{
	Dwarf_Op *ops;
	size_t nops;
	int threshold;

	if (dwarf_frame_cfa(frame, &ops, &nops) || nops == 0)
		return;
	if (nops == 1 && ops[0].atom == DW_OP_bregx &&
	    (ops[0].number == ARCH_DWARF_SP || ops[0].number == ARCH_DWARF_FP) &&
	    (int64_t)ops[0].number2 == (int16_t)ops[0].number2) {
		r->cfa = ops[0].number == ARCH_DWARF_SP ? LT_CFA_SP : LT_CFA_FP;
		r->cfa_off = (int16_t)ops[0].number2;
	} else if (nops == 1 && ops[0].atom == DW_OP_bregx && ops[0].number == ARCH_DWARF_SP &&
		   !(ops[0].number2 & 7) &&
		   (int64_t)ops[0].number2 / 8 == (int16_t)(ops[0].number2 / 8)) {
		/* A frame over 32 KiB (a big array on the stack): in 8-byte units, to 256 KiB. */
		r->cfa = LT_CFA_SP8;
		r->cfa_off = (int16_t)((int64_t)ops[0].number2 / 8);
	} else if (is_plt_cfa(ops, nops, &threshold)) {
		r->cfa = LT_CFA_PLT;
		r->cfa_off = threshold;
	}
}

static void row_fp(Dwarf_Frame *frame, struct lt_unwind_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;

	r->fp = LT_FP_UNKNOWN;
	if (dwarf_frame_register(frame, ARCH_DWARF_FP, mem, &ops, &nops))
		return;
	if (nops == 0 && !ops)
		r->fp = LT_FP_SAME;
	else if (saved_at_cfa(ops, nops, &off) && off % 8 == 0 && off / 8 == (int8_t)(off / 8)) {
		r->fp = LT_FP_AT;
		r->fp_off8 = (int8_t)(off / 8);
	}
}

/* The row of pc from libdw's frame state there; LT_CFA_NONE for what BPF cannot follow. */
static void row_from_frame(Dwarf_Frame *frame, uint64_t pc, struct lt_unwind_row *r)
{
	Dwarf_Op mem[3], *ops;
	Dwarf_Addr start, end;
	size_t nops;
	int64_t off;
	bool signal;

	memset(r, 0, sizeof(*r));
	r->pc = (uint32_t)pc;
	r->cfa = LT_CFA_NONE;
	/* A signal frame's caller state is in the sigcontext: not followed. */
	if (dwarf_frame_info(frame, &start, &end, &signal) < 0 || signal)
		return;
	if (dwarf_frame_register(frame, ARCH_DWARF_RA, mem, &ops, &nops))
		return;
	if (nops == 0 && ops == mem) {
		r->cfa = LT_CFA_END; /* no return address: the stack ends here */
		return;
	}
	if (!saved_at_cfa(ops, nops, &off) || off % 8 || off / 8 != (int8_t)(off / 8))
		return;
	row_cfa(frame, r);
	if (r->cfa == LT_CFA_NONE)
		return;
	row_fp(frame, r);
	if (off == -8)
		return;
	/*
	 * The return address elsewhere (arm64's x30, saved where the prologue
	 * chooses): in the frame record beside fp, or with fp untouched. Else the
	 * walk cannot follow: cut.
	 */
	if (r->fp == LT_FP_AT && r->fp_off8 * 8 + 8 == off) {
		r->fp = LT_FP_RECORD;
	} else if (r->fp == LT_FP_SAME) {
		r->fp = LT_FP_SAME_RA;
		r->fp_off8 = (int8_t)(off / 8);
	} else {
		r->cfa = LT_CFA_NONE;
	}
}

/*
 * Rows of the FDE starting at start, up to limit (the next FDE). libdw reports
 * each rule's range; we key the row by the address we asked for, since after a
 * DW_CFA_restore_state the range it reports can start before that address.
 */
static int fde_rows(Dwarf_CFI *cfi, uint64_t start, uint64_t limit, struct builder *b)
{
	struct lt_unwind_row r;
	Dwarf_Addr from, to;
	uint64_t pc = start;
	Dwarf_Frame *frame;
	bool signal;
	int err;

	while (pc < limit) {
		if (dwarf_cfi_addrframe(cfi, pc, &frame))
			break; /* past the end of this FDE */
		if (dwarf_frame_info(frame, &from, &to, &signal) < 0 || to <= pc)
			to = pc + 1;
		row_from_frame(frame, pc, &r);
		free(frame);
		err = builder__push(b, &r);
		if (err)
			return err;
		pc = to;
	}
	/* Up to the next FDE, nothing is known. */
	memset(&r, 0, sizeof(r));
	r.pc = (uint32_t)pc;
	r.cfa = LT_CFA_NONE;
	return builder__push(b, &r);
}

/* Size in bytes of a value with encoding enc, or 0 for one we do not read. */
static size_t encoded_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case 0x00: /* absptr */
	case 0x04: /* udata8 */
	case 0x0c: /* sdata8 */
		return 8;
	case 0x03: /* udata4 */
	case 0x0b: /* sdata4 */
		return 4;
	}
	return 0;
}

static uint64_t read_le(const uint8_t *p, size_t size)
{
	uint64_t v = 0;

	for (size_t i = size; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/*
 * The sorted FDE start addresses of .eh_frame_hdr's search table: a version
 * byte, three encodings, the .eh_frame pointer, the count, then pairs of
 * (start, FDE) relative to the header, as every linker writes them.
 */
static int fde_starts(Elf *elf, uint64_t **starts, size_t *nr)
{
	const uint8_t *p, *end;
	size_t phnum, ptr_size, count_size;
	GElf_Phdr ph;
	Elf_Data *d;
	uint64_t count;

	if (elf_getphdrnum(elf, &phnum))
		return -ENOEXEC;
	for (size_t i = 0; i < phnum; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (!d || d->d_size < 4)
			return -ENOEXEC;
		p = d->d_buf;
		end = p + d->d_size;
		ptr_size = encoded_size(p[1]);
		count_size = encoded_size(p[2]);
		if (p[0] != 1 || p[3] != EH_PE_DATAREL_SDATA4 || p[1] == EH_PE_OMIT || !ptr_size ||
		    !count_size || (size_t)(end - p) < 4 + ptr_size + count_size)
			return -ENOTSUP;
		count = read_le(p + 4 + ptr_size, count_size);
		p += 4 + ptr_size + count_size;
		if (count > (size_t)(end - p) / 8)
			return -ENOEXEC;
		*starts = malloc((count + 1) * sizeof(**starts));
		if (!*starts)
			return -ENOMEM;
		for (uint64_t k = 0; k < count; k++)
			(*starts)[k] = ph.p_vaddr + (int32_t)read_le(p + 8 * k, 4);
		*nr = count;
		return 0;
	}
	return -ENODATA;
}

/* The .eh_frame section's data and address, or -ENODATA for a file without one. */
static int eh_frame(Elf *elf, Elf_Data **data, uint64_t *addr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *name;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENODATA;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".eh_frame"))
			continue;
		*data = elf_getdata(scn, NULL);
		*addr = sh.sh_addr;
		return *data && (*data)->d_buf ? 0 : -ENODATA;
	}
	return -ENODATA;
}

/*
 * The 'R' encoding of an FDE's address in a CIE whose augmentation is "z...":
 * its augmentation data holds one field per letter after 'z', in order.
 */
static int cie_fde_encoding(const Dwarf_CIE *cie)
{
	const uint8_t *d = cie->augmentation_data, *end = d + cie->augmentation_data_size;
	const char *a = cie->augmentation;

	if (!a || a[0] != 'z' || !d)
		return -1;
	for (a++; *a && d < end; a++) {
		if (*a == 'R')
			return *d;
		if (*a == 'L')
			d++;
		else if (*a == 'P' && encoded_size(*d))
			d += 1 + encoded_size(*d);
		else
			return -1; /* a letter we do not know: the rest cannot be found */
	}
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds the start of the FDE e, absolute or relative to its own place (pcrel), to starts. */
static void add_fde_start(const Dwarf_FDE *e, int enc, const Elf_Data *d, uint64_t addr,
			  uint64_t *starts, size_t *nr)
{
	size_t size = encoded_size((uint8_t)enc);
	uint64_t v, at = addr + (uint64_t)(e->start - (const uint8_t *)d->d_buf);

	if (!size || (size_t)(e->end - e->start) < size || (enc & 0x70) > 0x10 || (enc & 0x80))
		return;
	v = read_le(e->start, size);
	if (size == 4 && (enc & 0x08))
		v = (uint64_t)(int64_t)(int32_t)v;
	starts[(*nr)++] = (enc & 0x70) == 0x10 ? at + v : v;
}

/*
 * The FDE starts read from .eh_frame itself, for a file without .eh_frame_hdr
 * (static binaries: gcc asks the linker for the header only when linking
 * dynamically). Each FDE names its CIE, whose augmentation gives the encoding.
 */
static int fde_starts_scan(Elf *elf, uint64_t **starts, size_t *nr)
{
	Dwarf_Off off = 0, next, cies[64];
	int encs[64], nr_cies = 0, enc;
	const unsigned char *ident;
	Dwarf_CFI_Entry e;
	Elf_Data *d;
	uint64_t addr;
	size_t cap;
	int err;

	err = eh_frame(elf, &d, &addr);
	if (err)
		return err;
	/* An FDE takes at least 16 bytes: that many starts are enough. */
	cap = d->d_size / 16 + 1;
	*starts = malloc(cap * sizeof(**starts));
	if (!*starts)
		return -ENOMEM;
	*nr = 0;
	ident = (const unsigned char *)elf_getident(elf, NULL);
	while (dwarf_next_cfi(ident, d, true, off, &next, &e) == 0) {
		if (dwarf_cfi_cie_p(&e)) {
			if (nr_cies < 64) {
				cies[nr_cies] = off;
				encs[nr_cies++] = cie_fde_encoding(&e.cie);
			}
		} else if (*nr < cap) {
			enc = -1;
			for (int i = 0; i < nr_cies; i++)
				if (cies[i] == e.fde.CIE_pointer)
					enc = encs[i];
			if (enc >= 0)
				add_fde_start(&e.fde, enc, d, addr, *starts, nr);
		}
		if (next == (Dwarf_Off)-1 || next <= off)
			break;
		off = next;
	}
	qsort(*starts, *nr, sizeof(**starts), cmp_u64);
	return 0;
}

/* Link-time address minus file offset in the first executable PT_LOAD. */
static int exec_delta(Elf *elf, int64_t *delta)
{
	size_t phnum;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &phnum))
		return -ENOEXEC;
	for (size_t i = 0; i < phnum; i++) {
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			*delta = (int64_t)(ph.p_vaddr - ph.p_offset);
			return 0;
		}
	}
	return -ENOEXEC;
}

static int build(Elf *elf, struct builder *b)
{
	uint64_t *starts = NULL;
	Dwarf_CFI *cfi;
	size_t nr = 0;
	int err;

	err = fde_starts(elf, &starts, &nr);
	if (err == -ENODATA)
		err = fde_starts_scan(elf, &starts, &nr);
	if (err)
		return err;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		err = -ENODATA;
		goto out;
	}
	for (size_t i = 0; i < nr && !err; i++) {
		uint64_t limit = i + 1 < nr ? starts[i + 1] : UINT64_MAX;

		if (i % 256 == 0 && stop__requested())
			err = -EINTR;
		else if (starts[i] > UINT32_MAX || (limit != UINT64_MAX && limit > UINT32_MAX))
			err = -E2BIG;
		else
			err = fde_rows(cfi, starts[i], limit, b);
	}
	dwarf_cfi_end(cfi);
out:
	free(starts);
	return err;
}

/*
 * Where no FDE covers [start, end), rows of rule cfa instead; the rules FDEs give stay.
 * Rebuilds the rows in order through builder__push, which merges neighbours alike.
 */
static int gap_fill(struct builder *b, uint64_t start, uint64_t end, enum lt_cfa cfa)
{
	struct lt_unwind_row none = { .cfa = LT_CFA_NONE }, at_end, r;
	const struct lt_unwind_row *cover = &none; /* the rule at the last pc seen */
	struct builder out = {};
	bool ended = false;
	size_t i = 0;
	int err = 0;

	for (; i < b->nr && b->rows[i].pc < start && !err; i++) {
		cover = &b->rows[i];
		err = builder__push(&out, cover);
	}
	if (!err && cover->cfa == LT_CFA_NONE && (i == b->nr || b->rows[i].pc > start))
		err = builder__push(&out,
				    &(struct lt_unwind_row){ .pc = (uint32_t)start, .cfa = cfa });
	for (; i < b->nr && !err; i++) {
		r = b->rows[i];
		if (r.pc >= end && !ended) {
			ended = true;
			if (r.pc > end) {
				/* The rule the original rows held at end. */
				at_end = *cover;
				at_end.pc = (uint32_t)end;
				err = builder__push(&out, &at_end);
			}
		}
		cover = &b->rows[i];
		if (!ended && r.cfa == LT_CFA_NONE)
			r = (struct lt_unwind_row){ .pc = r.pc, .cfa = cfa };
		if (!err)
			err = builder__push(&out, &r);
	}
	if (!err && !ended) {
		at_end = *cover;
		at_end.pc = (uint32_t)end;
		err = builder__push(&out, &at_end);
	}
	if (err) {
		free(out.rows);
		return err;
	}
	free(b->rows);
	*b = out;
	return 0;
}

/*
 * True when runtime.asmcgocall's code at [addr, addr + size) stores the goroutine
 * (rdi) at 48(rsp) and then its stack's depth (rdi again) at 40(rsp), where the
 * BPF side reads them: a Go whose layout differs gets no row, and its walks stop
 * there, truncated, rather than follow what is not there.
 */
static bool go_cgo_layout(Elf *elf, uint64_t addr, uint64_t size)
{
	static const uint8_t g_at_48[] = { 0x48, 0x89, 0x7c, 0x24, 0x30 };
	static const uint8_t depth_at_40[] = { 0x48, 0x89, 0x7c, 0x24, 0x28 };
	const uint8_t *code, *g;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || addr < sh.sh_addr ||
		    addr + size > sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata_rawchunk(elf, (int64_t)(sh.sh_offset + addr - sh.sh_addr), size,
					 ELF_T_BYTE);
		if (!d || d->d_size != size)
			return false;
		code = d->d_buf;
		g = memmem(code, size, g_at_48, sizeof(g_at_48));
		return g && memmem(g, size - (size_t)(g - code), depth_at_40, sizeof(depth_at_40));
	}
	return false;
}

/*
 * A Go program's own code has no CFI, but keeps frame pointers: its rows say to
 * follow them. runtime.asmcgocall, where Go calls C on the system stack, gets
 * the row that takes the walk back to the goroutine's stack. Only x86-64's
 * layout is known to the BPF side, and only as go_cgo_layout finds it. The text
 * range and the function come from .symtab: runtime.text and runtime.etext
 * around Go's code, and the switch, runtime.asmcgocall.abi0 since Go 1.17,
 * runtime.asmcgocall before (where Go 1.17's is a wrapper that calls the other).
 */
static int go_rows(Elf *elf, struct builder *b)
{
	uint64_t text = 0, etext = 0, cgo = 0, cgo_size = 0;
	bool go = false, abi0 = false;
	Elf_Scn *scn = NULL, *symtab = NULL;
	size_t shstrndx, nr;
	const char *name;
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	int err;

	if (ARCH_ELF_MACHINE != EM_X86_64 || elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".gopclntab"))
			go = true;
		if (sh.sh_type == SHT_SYMTAB)
			symtab = scn;
	}
	if (!go || !symtab || !gelf_getshdr(symtab, &sh) || !sh.sh_entsize)
		return 0;
	d = elf_getdata(symtab, NULL);
	nr = d ? d->d_size / sh.sh_entsize : 0;
	for (size_t i = 0; i < nr; i++) {
		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!name || strncmp(name, "runtime.", 8))
			continue;
		if (!strcmp(name + 8, "text")) {
			text = sym.st_value;
		} else if (!strcmp(name + 8, "etext")) {
			etext = sym.st_value;
		} else if (!strcmp(name + 8, "asmcgocall.abi0") ||
			   (!abi0 && !strcmp(name + 8, "asmcgocall"))) {
			abi0 = !strcmp(name + 8, "asmcgocall.abi0");
			cgo = sym.st_value;
			cgo_size = sym.st_size;
		}
	}
	if (!text || etext <= text || etext > UINT32_MAX)
		return 0;
	if (cgo_size && cgo >= text && cgo + cgo_size <= etext &&
	    go_cgo_layout(elf, cgo, cgo_size)) {
		err = gap_fill(b, cgo, cgo + cgo_size, LT_CFA_GO_CGO);
		if (err)
			return err;
	}
	return gap_fill(b, text, etext, LT_CFA_FP_CHAIN);
}

/*
 * The ELF entry point is where a process starts: the outermost frame. The
 * dynamic loader's (_start, _dl_start_user, which calls the constructors) has
 * no CFI; a row there that says so ends the walk at it, as _start's CFI does.
 */
static int entry_row(Elf *elf, struct builder *b)
{
	struct lt_unwind_row *grown;
	GElf_Ehdr eh;
	size_t i = 0;

	if (!gelf_getehdr(elf, &eh) || !eh.e_entry || eh.e_entry > UINT32_MAX)
		return 0;
	while (i < b->nr && b->rows[i].pc <= eh.e_entry)
		i++;
	if (i && b->rows[i - 1].cfa != LT_CFA_NONE)
		return 0; /* an FDE covers it: its CFI says where the stack ends */
	if (i && b->rows[i - 1].pc == eh.e_entry) {
		b->rows[i - 1].cfa = LT_CFA_END; /* the gap starts right at the entry */
		return 0;
	}
	if (b->nr == b->cap) {
		grown = realloc(b->rows, (b->cap + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		b->rows = grown;
		b->cap++;
	}
	memmove(&b->rows[i + 1], &b->rows[i], (b->nr - i) * sizeof(*b->rows));
	b->rows[i] = (struct lt_unwind_row){ .pc = (uint32_t)eh.e_entry, .cfa = LT_CFA_END };
	b->nr++;
	return 0;
}

int unwind_table__build(const char *path, struct unwind_table **out)
{
	struct builder b = {};
	struct unwind_table *t;
	int64_t delta;
	Elf *elf;
	int fd, err;

	elf_version(EV_CURRENT);
	fd = target_file__open(path);
	if (fd < 0)
		return fd;
	/* ELF_C_READ: libelf copies what it reads, where a mapping could SIGBUS on a truncation. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto err_close_elf;
	}
	err = exec_delta(elf, &delta);
	if (!err)
		err = build(elf, &b);
	if (!err)
		err = go_rows(elf, &b);
	if (!err)
		err = entry_row(elf, &b);
	if (err)
		goto err_close_elf;
	t = malloc(sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto err_close_elf;
	}
	t->rows = b.rows;
	t->nr = b.nr;
	t->delta = delta;
	b.rows = NULL;
	*out = t;
err_close_elf:
	free(b.rows);
	elf_end(elf);
	close(fd);
	return err;
}

const struct lt_unwind_row *unwind_table__lookup(const struct unwind_table *t, uint64_t pc)
{
	size_t lo = 0, hi = t->nr;

	/* The last row whose pc is at most pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}
