// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The SVG flamegraph: one file that a browser opens with no network and no other
 * file. Frames are laid out here, root at the bottom, widths proportional to
 * outstanding bytes; the embedded script adds tooltips, click to zoom and search.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "export_svg.h"
#include "json_writer.h"
#include "units.h"

#define SVG_WIDTH 1200.0
#define SVG_PAD 10.0 /* left and right margins */
#define FRAME_HEIGHT 16.0
#define HEAD_HEIGHT 72.0     /* title, subtitle, search box */
#define FOOT_HEIGHT 32.0     /* the details line */
#define MIN_WIDTH 0.1	     /* narrower frames are left out, as flamegraph.pl does */
#define LABEL_CHAR_WIDTH 7.0 /* of the 12 px monospace labels, to cut them to fit */

enum node_kind { NODE_ROOT, NODE_PROCESS, NODE_FRAME };

struct node {
	const char *name;
	const char *module;
	/* Where its frames are in the source: the first one's; line -1 when they differ. */
	const char *file;
	int line;
	bool inlined;
	enum node_kind kind;
	int64_t bytes;
	int64_t allocs;
	struct node *parent;
	uint64_t hash; /* of (parent, name, module): its slot in flame.nodes */
	struct node **kids;
	size_t nr_kids, cap;
};

/*
 * The tree, and every node in one open-addressing hash by (parent, name,
 * module): a child is found in O(1) however many siblings it has.
 */
struct flame {
	struct arena *arena;
	struct node root;
	struct node **nodes;
	size_t nr_nodes, nr_slots; /* nr_slots: a power of 2, at most half full */
	int depth;		   /* of the deepest frame */
};

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL; /* ends the string: "ab","c" is not "a","bc" */
}

static uint64_t node_hash(const struct node *parent, const char *name, const char *module)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)parent;

	return fnv(fnv(h * 0x100000001b3ULL, name), module);
}

static bool same_node(const struct node *c, const struct node *parent, uint64_t h, const char *name,
		      const char *module)
{
	return c->hash == h && c->parent == parent && !strcmp(c->name, name) &&
	       !strcmp(c->module ? c->module : "", module ? module : "");
}

static int nodes_grow(struct flame *fl)
{
	size_t n = fl->nr_slots ? fl->nr_slots * 2 : 1024;
	struct node **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < fl->nr_slots; i++) {
		struct node *c = fl->nodes[i];
		size_t k;

		if (!c)
			continue;
		for (k = c->hash & (n - 1); slots[k]; k = (k + 1) & (n - 1))
			;
		slots[k] = c;
	}
	free(fl->nodes);
	fl->nodes = slots;
	fl->nr_slots = n;
	return 0;
}

static int add_kid(struct flame *fl, struct node *n, struct node *c)
{
	struct node **kids;

	if (n->nr_kids == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 4;
		kids = arena__alloc(fl->arena, n->cap * sizeof(*kids));
		if (!kids)
			return -ENOMEM;
		if (n->nr_kids)
			memcpy(kids, n->kids, n->nr_kids * sizeof(*kids));
		n->kids = kids;
	}
	n->kids[n->nr_kids++] = c;
	return 0;
}

static struct node *child(struct flame *fl, struct node *n, const char *name, const char *module,
			  enum node_kind kind)
{
	uint64_t h = node_hash(n, name, module);
	struct node *c;
	size_t k;

	if (2 * (fl->nr_nodes + 1) > fl->nr_slots && nodes_grow(fl))
		return NULL;
	for (k = h & (fl->nr_slots - 1); fl->nodes[k]; k = (k + 1) & (fl->nr_slots - 1))
		if (same_node(fl->nodes[k], n, h, name, module))
			return fl->nodes[k];
	c = arena__alloc(fl->arena, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct node){ .name = arena__strdup(fl->arena, name),
			    .module = module,
			    .kind = kind,
			    .parent = n,
			    .hash = h };
	if (!c->name || add_kid(fl, n, c))
		return NULL;
	fl->nodes[k] = c;
	fl->nr_nodes++;
	return c;
}

/* The frame's source line for the tooltip; frames of one box on other lines make it "several". */
static int note_source(struct flame *fl, struct node *n, const struct frame *fr)
{
	if (!fr->file)
		return 0;
	n->inlined = fr->inlined;
	if (!n->file) {
		n->file = arena__strdup(fl->arena, fr->file);
		n->line = fr->line;
		return n->file ? 0 : -ENOMEM;
	}
	if (strcmp(n->file, fr->file) || n->line != fr->line)
		n->line = -1;
	return 0;
}

static void node_add(struct node *n, const struct stack_stat *s)
{
	n->bytes = count__add(n->bytes, s->bytes);
	n->allocs = count__add(n->allocs, s->allocs);
}

/* Adds a stack under its process, outermost frame first. */
static int add_stack(struct flame *fl, const struct proc_stat *p, const struct stack_stat *s)
{
	char name[288];
	struct node *n;
	int depth = 1;

	if (p->pid)
		snprintf(name, sizeof(name), "%s (pid %d)", p->comm, p->pid);
	else
		snprintf(name, sizeof(name), "%s", p->comm);
	n = child(fl, &fl->root, name, p->exe, NODE_PROCESS);
	for (int i = s->nr_frames - 1; i >= 0 && n; i--, depth++) {
		node_add(n, s);
		n = child(fl, n, frame__name(s->frames[i], name, sizeof(name)),
			  s->frames[i]->module, NODE_FRAME);
		if (n && note_source(fl, n, s->frames[i]))
			n = NULL;
	}
	if (!s->nr_frames && n) {
		node_add(n, s);
		n = child(fl, n, "[stack not recorded]", NULL, NODE_FRAME);
		depth++;
	}
	if (!n)
		return -ENOMEM;
	node_add(n, s);
	node_add(&fl->root, s);
	if (depth > fl->depth)
		fl->depth = depth;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct node *const *)a)->name, (*(struct node *const *)b)->name);
}

/*
 * Siblings in name order, as flamegraph.pl draws them: the same stacks, the same
 * picture. Every node has its slot in the hash, so no walk of the tree is needed.
 */
static void sort_tree(struct flame *fl)
{
	if (fl->root.nr_kids > 1)
		qsort(fl->root.kids, fl->root.nr_kids, sizeof(*fl->root.kids), by_name);
	for (size_t i = 0; i < fl->nr_slots; i++)
		if (fl->nodes[i] && fl->nodes[i]->nr_kids > 1)
			qsort(fl->nodes[i]->kids, fl->nodes[i]->nr_kids, sizeof(struct node *),
			      by_name);
}

/* Text for XML: escaped, and bytes that are not UTF-8 replaced so that the file parses. */
static void put_xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c >= 0x80)
			s += json__utf8_put(f, s, "\xef\xbf\xbd") - 1; /* U+FFFD */
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c < 0x20)
			fputc(' ', f);
		else
			fputc(c, f);
	}
}

/* flamegraph.pl's "hot" palette, picked by a hash of the name: a function keeps its color. */
static void color(const struct node *n, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *s = n->name; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	if (n->kind == NODE_ROOT)
		snprintf(buf, size, "rgb(200,200,200)");
	else if (n->kind == NODE_PROCESS)
		snprintf(buf, size, "rgb(%d,%d,230)", 100 + (int)(h % 50),
			 150 + (int)((h >> 8) % 50));
	else
		snprintf(buf, size, "rgb(%d,%d,%d)", 205 + (int)(h % 51), (int)((h >> 8) % 231),
			 (int)((h >> 16) % 56));
}

/* The label as much as fits, cut with "..": the script does the same after a zoom. */
static void put_label(FILE *f, const char *name, double w)
{
	int n = (int)((w - 6) / LABEL_CHAR_WIDTH);
	int len = (int)strlen(name);
	char buf[512];

	if (n < 3)
		return;
	if (len <= n) {
		put_xml(f, name);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s..", n - 2 < 509 ? n - 2 : 509, name);
	put_xml(f, buf);
}

static void put_tooltip(FILE *f, const struct node *n, int64_t total)
{
	char b1[32], b2[32], b3[32];

	fputs("<title>", f);
	put_xml(f, n->name);
	if (n->module) {
		fputs("\nmodule: ", f);
		put_xml(f, n->module);
	}
	if (n->file) {
		fputs("\nsource: ", f);
		put_xml(f, n->file);
		if (n->line > 0)
			fprintf(f, ":%d", n->line);
		else if (n->line < 0)
			fputs(" (several lines)", f);
		if (n->inlined)
			fputs(" (inlined)", f);
	}
	fprintf(f, "\n%s bytes (%s), %.2f%% of all\n%s allocation%s</title>",
		units__grouped(n->bytes, b1, sizeof(b1)), units__human(n->bytes, b2, sizeof(b2)),
		total ? 100.0 * n->bytes / total : 0, units__grouped(n->allocs, b3, sizeof(b3)),
		n->allocs == 1 ? "" : "s");
}

static void put_frame(FILE *f, const struct node *n, int depth, double x, double w, double bottom,
		      int64_t total)
{
	double y = bottom - (depth + 1) * FRAME_HEIGHT;
	char fill[32];

	color(n, fill, sizeof(fill));
	fputs("<g class=\"f\" data-name=\"", f);
	put_xml(f, n->name);
	fputs("\" data-module=\"", f);
	put_xml(f, n->module ? n->module : "");
	fprintf(f, "\" data-bytes=\"%" PRId64 "\" data-allocs=\"%" PRId64 "\" data-depth=\"%d\">",
		n->bytes, n->allocs, depth);
	put_tooltip(f, n, total);
	fprintf(f,
		"<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" rx=\"2\" "
		"fill=\"%s\"/><text x=\"%.2f\" y=\"%.1f\">",
		x, y, w, FRAME_HEIGHT - 1, fill, x + 3, y + FRAME_HEIGHT - 4.5);
	put_label(f, n->name, w);
	fputs("</text></g>\n", f);
}

/* A frame still to draw: the tree is walked with a stack of these, not recursion. */
struct pending {
	const struct node *n;
	int depth;
	double x;
};

/*
 * Depth first, children left to right from their parent's left edge; the
 * children are pushed right to left so that the leftmost is drawn next.
 */
static int put_tree(FILE *f, const struct node *root, double x0, double px_per_byte, double bottom,
		    int64_t total)
{
	struct pending *todo = malloc(64 * sizeof(*todo)), *grown, p;
	size_t nr = 0, cap = 64;
	double x;

	if (!todo)
		return -ENOMEM;
	todo[nr++] = (struct pending){ root, 0, x0 };
	while (nr) {
		p = todo[--nr];
		if (p.n->bytes * px_per_byte < MIN_WIDTH)
			continue;
		put_frame(f, p.n, p.depth, p.x, p.n->bytes * px_per_byte, bottom, total);
		if (nr + p.n->nr_kids > cap) {
			cap = 2 * (nr + p.n->nr_kids);
			grown = realloc(todo, cap * sizeof(*todo));
			if (!grown) {
				free(todo);
				return -ENOMEM;
			}
			todo = grown;
		}
		x = p.x;
		for (size_t i = 0; i < p.n->nr_kids; i++)
			x += p.n->kids[i]->bytes * px_per_byte;
		for (size_t i = p.n->nr_kids; i-- > 0;) {
			x -= p.n->kids[i]->bytes * px_per_byte;
			todo[nr++] = (struct pending){ p.n->kids[i], p.depth + 1, x };
		}
	}
	free(todo);
	return 0;
}

static const char style[] =
	"<style>\n"
	"text { font-family: monospace; font-size: 12px; fill: #000; }\n"
	"#title { font-size: 17px; } #subtitle { fill: #555; }\n"
	"g.f { cursor: pointer; } g.f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
	"g.f text { pointer-events: none; }\n"
	"g.parent rect { opacity: 0.5; } g.match rect { fill: rgb(230,0,230); }\n"
	"#reset { cursor: pointer; fill: #06c; text-decoration: underline; }\n"
	"</style>\n";

/* Tooltip line, click to zoom, search; no network, no other file. */
static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"'use strict';\n"
	"(function () {\n"
	"var W = %.1f, PAD = %.1f, CW = %.1f, EPS = 0.02;\n"
	"var svg = document.documentElement, frames = [], root = null;\n"
	"var details = document.getElementById('details'), matched = document.getElementById('matched');\n"
	"var search = document.getElementById('search'), reset = document.getElementById('reset');\n"
	"function fit(t, name, w) {\n"
	"  var n = Math.floor((w - 6) / CW);\n"
	"  t.textContent = n < 3 ? '' : name.length <= n ? name : name.slice(0, n - 2) + '..';\n"
	"}\n"
	"function place(g, x, w) {\n"
	"  var r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"  r.setAttribute('x', x.toFixed(2));\n"
	"  r.setAttribute('width', w.toFixed(2));\n"
	"  t.setAttribute('x', (x + 3).toFixed(2));\n"
	"  fit(t, g.getAttribute('data-name'), w);\n"
	"  g.style.display = '';\n"
	"}\n"
	"function zoom(z) {\n"
	"  var k = (W - 2 * PAD) / z.ow;\n"
	"  frames.forEach(function (g) {\n"
	"    var inside = g.ox >= z.ox - EPS && g.ox + g.ow <= z.ox + z.ow + EPS;\n"
	"    var below = g.depth < z.depth && g.ox <= z.ox + EPS && g.ox + g.ow >= z.ox + z.ow - EPS;\n"
	"    g.classList.toggle('parent', below);\n"
	"    if (g.depth >= z.depth && inside) place(g, PAD + (g.ox - z.ox) * k, g.ow * k);\n"
	"    else if (below) place(g, PAD, W - 2 * PAD);\n"
	"    else g.style.display = 'none';\n"
	"  });\n"
	"  svg.setAttribute('data-zoomed', z.getAttribute('data-name'));\n"
	"  reset.style.display = '';\n"
	"}\n"
	"function unzoom() {\n"
	"  frames.forEach(function (g) { g.classList.remove('parent'); place(g, g.ox, g.ow); });\n"
	"  svg.removeAttribute('data-zoomed');\n"
	"  reset.style.display = 'none';\n"
	"}\n"
	"function find(term) {\n"
	"  var t = term.toLowerCase(), spans = [], sum = 0, end = -1;\n"
	"  frames.forEach(function (g) {\n"
	"    var hit = t !== '' && g.getAttribute('data-name').toLowerCase().indexOf(t) >= 0;\n"
	"    g.classList.toggle('match', hit);\n"
	"    if (hit) spans.push([g.ox, g.ox + g.ow]);\n"
	"  });\n"
	"  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
	"  spans.forEach(function (s) {\n"
	"    if (s[0] >= end) { sum += s[1] - s[0]; end = s[1]; }\n"
	"    else if (s[1] > end) { sum += s[1] - end; end = s[1]; }\n"
	"  });\n"
	"  matched.textContent = t === '' ? '' :\n"
	"    'Matched: ' + (root ? 100 * sum / root.ow : 0).toFixed(2) + '%%';\n"
	"}\n"
	"document.querySelectorAll('g.f').forEach(function (g) {\n"
	"  var r = g.querySelector('rect');\n"
	"  g.ox = parseFloat(r.getAttribute('x'));\n"
	"  g.ow = parseFloat(r.getAttribute('width'));\n"
	"  g.depth = parseInt(g.getAttribute('data-depth'), 10);\n"
	"  if (g.depth === 0) root = g;\n"
	"  g.addEventListener('click', function (e) { zoom(g); e.stopPropagation(); });\n"
	"  g.addEventListener('mouseover', function () {\n"
	"    details.textContent = g.querySelector('title').textContent.replace(/\\n/g, ', ');\n"
	"  });\n"
	"  g.addEventListener('mouseout', function () { details.textContent = ''; });\n"
	"  frames.push(g);\n"
	"});\n"
	"reset.addEventListener('click', unzoom);\n"
	"search.addEventListener('input', function () { find(search.value); });\n"
	"document.addEventListener('keydown', function (e) {\n"
	"  if (e.key === 'Escape') { unzoom(); search.value = ''; find(''); }\n"
	"  else if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); search.focus(); }\n"
	"});\n"
	"})();\n"
	"]]></script>\n";

/* "leaky (pid 4242) on host-01", or the first processes and hosts of a larger snapshot. */
static void put_title(FILE *f, const struct snapshot *snap)
{
	size_t shown = snap->nr_procs < 3 ? snap->nr_procs : 3;

	fputs("Outstanding memory: ", f);
	for (size_t i = 0; i < shown; i++) {
		fputs(i ? ", " : "", f);
		put_xml(f, snap->procs[i].comm);
		if (snap->procs[i].pid)
			fprintf(f, " (pid %d)", snap->procs[i].pid);
	}
	if (!snap->nr_procs)
		fputs("no process", f);
	if (shown < snap->nr_procs)
		fprintf(f, " and %zu more", snap->nr_procs - shown);
	if (snap->nr_hosts > 1) {
		fprintf(f, " on %zu hosts (", snap->nr_hosts);
		for (size_t i = 0; i < snap->nr_hosts; i++) {
			fputs(i ? ", " : "", f);
			put_xml(f, snap->hosts[i]);
		}
		fputs(")", f);
	} else {
		fputs(" on ", f);
		put_xml(f, snap->host);
	}
}

static void put_head(FILE *f, const struct snapshot *snap, const struct node *root, double height)
{
	char when[64], b1[32], b2[32];
	struct tm tm;

	gmtime_r(&snap->taken.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n",
		SVG_WIDTH, height, SVG_WIDTH, height);
	fputs(style, f);
	fprintf(f,
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f4\"/>\n"
		"<text id=\"title\" x=\"%.1f\" y=\"24\" text-anchor=\"middle\">",
		SVG_WIDTH / 2);
	put_title(f, snap);
	fprintf(f,
		"</text>\n<text id=\"subtitle\" x=\"%.1f\" y=\"42\" text-anchor=\"middle\">"
		"%s, %.1f s traced, %s in %s allocations</text>\n",
		SVG_WIDTH / 2, when, snap->elapsed_s, units__human(root->bytes, b1, sizeof(b1)),
		units__grouped(root->allocs, b2, sizeof(b2)));
	fprintf(f,
		"<text id=\"reset\" x=\"%.1f\" y=\"62\" style=\"display:none\">Reset zoom"
		"</text>\n<text id=\"matched\" x=\"%.1f\" y=\"62\" text-anchor=\"end\"></text>\n"
		"<foreignObject x=\"%.1f\" y=\"48\" width=\"250\" height=\"22\"><input "
		"xmlns=\"http://www.w3.org/1999/xhtml\" id=\"search\" type=\"search\" "
		"placeholder=\"Search (Ctrl-F)\" style=\"width:240px;font:12px monospace\"/>"
		"</foreignObject>\n<text id=\"details\" x=\"%.1f\" y=\"%.1f\"></text>\n",
		SVG_PAD, SVG_WIDTH - SVG_PAD - 260, SVG_WIDTH - SVG_PAD - 250, SVG_PAD,
		height - 12);
}

int export_svg__write(FILE *f, const struct snapshot *snap)
{
	struct flame fl = { .arena = arena__new(), .root = { .name = "all", .kind = NODE_ROOT } };
	double height, px_per_byte;
	int err = fl.arena ? 0 : -ENOMEM;

	for (size_t i = 0; i < snap->nr_procs && !err; i++)
		for (size_t j = 0; j < snap->procs[i].nr_stacks && !err; j++)
			if (snap->procs[i].stacks[j].bytes > 0)
				err = add_stack(&fl, &snap->procs[i], &snap->procs[i].stacks[j]);
	if (!err) {
		sort_tree(&fl);
		height = HEAD_HEIGHT + (fl.depth + 1) * FRAME_HEIGHT + FOOT_HEIGHT;
		px_per_byte = fl.root.bytes ? (SVG_WIDTH - 2 * SVG_PAD) / fl.root.bytes : 0;
		put_head(f, snap, &fl.root, height);
		fputs("<g id=\"frames\">\n", f);
		err = put_tree(f, &fl.root, SVG_PAD, px_per_byte, height - FOOT_HEIGHT,
			       fl.root.bytes);
		fputs("</g>\n", f);
		fprintf(f, script, SVG_WIDTH, SVG_PAD, LABEL_CHAR_WIDTH);
		fputs("</svg>\n", f);
	}
	arena__free(fl.arena);
	free(fl.nodes);
	return err ? err : ferror(f) ? -EIO : 0;
}
