#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The verdict bar: leaktrace's run mode against valgrind --leak-check=full on 35 programs of
# Debian's (compilers, linkers, interpreters, compressors, git, sqlite3, make, ...), one process
# each, in the same environment on both sides. A program equals valgrind when its LEAK SUMMARY's
# five figures (in use at exit, definitely, indirectly and possibly lost, still reachable) are the
# same in bytes and in blocks. A measurement, as make bench is: it prints the count, never fails.
#
#   make bar [BAR=NAME...]    or    LEAKTRACE=./leaktrace tests/bar/bar.sh [NAME...]
#
# Per program in $BAR_OUT/NAME/: valgrind's log, leaktrace's snapshot, both outputs, environments.
# LT_TUNABLES=...: appended to GLIBC_TUNABLES on leaktrace's side only (an experiment:
# glibc.malloc.perturb=165 fills new blocks, so they hold no stale pointers), into $BAR_OUT-x.
set -u
BAR=$(cd "$(dirname "$0")" && pwd)
LT=$(realpath "${LEAKTRACE:-$BAR/../../leaktrace}")
OUT=$(realpath -m "${BAR_OUT:-.output/bar}")
LT_TUNABLES=${LT_TUNABLES:-}
[ -n "$LT_TUNABLES" ] && OUT=$OUT-x
IN=$OUT/inputs
RUN=$OUT/run                # each case runs in $RUN/NAME (the same path on both sides), made anew per side
TMO=${TMO:-300}
GCCLIB=$(dirname "$(gcc -print-prog-name=cc1)")
# valgrind's virtual CPU has no AVX-512: glibc must not pick its AVX-512 string functions natively.
TUN='glibc.cpu.hwcaps=-AVX512F,-AVX512BW,-AVX512VL,-AVX512DQ,-AVX512CD'

ALL=(gcc_c gxx_c cc1 cc1plus as ld_bfd ld_gold perl python3 tclsh mawk gawk sed bash dash bc
     gzip bzip2 xz zstd git_log sqlite3 make tar sort diff find grep jq openssl objdump readelf
     nm file gdb)

# ---------- shared inputs (deterministic, generated once) ----------
mk_inputs() {
	[ -f $IN/.done ] && return
	rm -rf $IN; mkdir -p $IN
	for i in $(seq 10); do cat /usr/share/common-licenses/GPL-3; done > $IN/words.txt
	{
		echo '#include <stdio.h>'; echo '#include <stdlib.h>'; echo '#include <string.h>'
		echo 'struct node { struct node *next; int v; char name[16]; };'
		for i in $(seq 120); do
			cat <<C
static int f$i(int *a, int n) { int s = $i; for (int i = 0; i < n; i++) { s = s * 31 + a[i] % ($i + 1); if (s > 100000) s -= a[i] * $i; } return s; }
struct node *g$i(struct node *h, int k) { struct node *n = malloc(sizeof *n); n->next = h; n->v = k * $i; snprintf(n->name, sizeof n->name, "n%d", k); return n; }
C
		done
		echo 'int main(int argc, char **argv) { int a[64]; struct node *h = 0; for (int i = 0; i < 64; i++) a[i] = i * argc; long s = 0;'
		for i in $(seq 120); do echo "  s += f$i(a, 64); h = g$i(h, $i);"; done
		echo '  printf("%ld %s\n", s, h->name); return 0; }'
	} > $IN/prog.c
	cat > $IN/prog.cc <<'C'
#include <vector>
#include <map>
#include <string>
#include <algorithm>
#include <memory>
template <typename T> struct Acc { std::vector<T> v; void add(T x) { v.push_back(x); } T sum() const { T s{}; for (auto &x : v) s += x; return s; } };
struct Shape { virtual ~Shape() = default; virtual double area() const = 0; };
struct Sq : Shape { double s; explicit Sq(double s) : s(s) {} double area() const override { return s * s; } };
struct Ci : Shape { double r; explicit Ci(double r) : r(r) {} double area() const override { return 3.14159 * r * r; } };
int run(int n) {
	std::map<std::string, std::vector<int>> m;
	for (int i = 0; i < n; i++) m[std::to_string(i % 17)].push_back(i);
	Acc<long> a; Acc<double> d;
	std::vector<std::unique_ptr<Shape>> shapes;
	for (auto &kv : m) { a.add(kv.second.size()); shapes.emplace_back(new Sq(kv.second.size())); shapes.emplace_back(new Ci(1.5)); }
	std::sort(shapes.begin(), shapes.end(), [](auto &x, auto &y) { return x->area() < y->area(); });
	for (auto &s : shapes) d.add(s->area());
	return (int)(a.sum() + d.sum());
}
int main() { return run(1000) & 1; }
C
	cd $IN
	gcc -E prog.c -o prog.i && g++ -E prog.cc -o prog.ii && gcc -O2 -S prog.c -o prog.s &&
	gcc -g -O1 prog.c -o a.out && gcc -c prog.c -o prog.o || exit 1
	sed -e 's/software/SOFTWARE/g; 200,260d; 900a\an inserted line' words.txt > words2.txt
	python3 -c '
import json
print(json.dumps([{"k": i % 37, "name": "item%d" % i, "tags": ["t%d" % (i % 5), "u%d" % (i % 3)], "v": i * 1.5} for i in range(3000)]))' > data.json
	touch .done
}

# ---------- cases: each sets up its input in the cwd (a fresh dir) and sets CMD (and STDIN, XENV) ----------
STDIN=/dev/null
link_args() {  # the collect2 command gcc runs, without the LTO plugin, for ld.bfd/ld.gold
	gcc -### prog.o -o a.out 2>&1 | grep collect2 | sed 's/^ *//' | tr -d '"' | tr ' ' '\n' |
		sed '1d; /^-plugin/d; /^\/usr\/lib\/gcc.*liblto_plugin.so$/d'
}
case_gcc_c()    { cp $IN/prog.c .; CMD=(gcc -O2 -c prog.c -o prog.o); }
case_gxx_c()    { cp $IN/prog.cc .; CMD=(g++ -O1 -c prog.cc -o prog.o); }
case_cc1()      { cp $IN/prog.i .; CMD=($GCCLIB/cc1 -fpreprocessed -quiet -O2 prog.i -o prog.s); }
case_cc1plus()  { cp $IN/prog.ii .; CMD=($GCCLIB/cc1plus -fpreprocessed -quiet -O1 prog.ii -o prog.s); }
case_as()       { cp $IN/prog.s .; CMD=(as prog.s -o prog.o); }
case_ld_bfd()   { cp $IN/prog.o .; mapfile -t A < <(link_args); CMD=(ld.bfd "${A[@]}"); }
case_ld_gold()  { cp $IN/prog.o .; mapfile -t A < <(link_args); CMD=(ld.gold "${A[@]}"); }
case_perl()     { cp $IN/words.txt .; CMD=(perl -e 'my %h; $h{"k$_"} = [$_, $_ * 2, "x" x ($_ % 50)] for 1 .. 30000;
my @s = sort { $h{$a}[0] <=> $h{$b}[0] } keys %h; my %c; open my $f, "<", "words.txt" or die;
while (<$f>) { $c{lc $_}++ for grep { length } split /\W+/ } my @top = (sort { $c{$b} <=> $c{$a} || $a cmp $b } keys %c)[0 .. 9];
my $t = join ",", map { s/(\w)(\w*)/\U$1\E$2/r } @top; printf "%d %d %s\n", scalar @s, scalar keys %c, $t;'); }
case_python3()  { cp $IN/words.txt $IN/data.json .; CMD=(python3 -c 'import json, re, collections
c = collections.Counter(w.lower() for w in re.findall(r"[A-Za-z]+", open("words.txt").read()))
d = json.load(open("data.json"))
g = collections.defaultdict(list)
for o in d: g[o["k"]].append(o["v"])
class P:
    def __init__(s, a): s.a = a; s.kids = [a] * 3
ps = [P(i) for i in range(5000)]
print(c.most_common(5), len(g), sum(sum(v) for v in g.values()), len(ps), json.dumps(sorted(g)[:5]))'); }
case_tclsh()    { cp $IN/words.txt .; cat > s.tcl <<'T'
set f [open words.txt]; set n 0
while {[gets $f line] >= 0} { foreach w [regexp -all -inline {[A-Za-z]+} $line] { dict incr cnt [string tolower $w]; incr n } }
close $f
set l [lsort -stride 2 -index 1 -integer -decreasing $cnt]
proc fib {n} { if {$n < 2} { return $n }; expr {[fib [expr {$n-1}]] + [fib [expr {$n-2}]]} }
puts "$n [dict size $cnt] [lrange $l 0 5] [fib 18] [format %.3f [expr {sqrt(2)}]]"
T
	CMD=(tclsh s.tcl); }
case_mawk()     { cp $IN/words.txt .; CMD=(mawk '{ for (i = 1; i <= NF; i++) c[tolower($i)]++; l += length($0) } END { for (w in c) { n++; if (c[w] > m) { m = c[w]; mw = w } } printf "%d %d %s %d\n", NR, n, mw, l }' words.txt); }
case_gawk()     { cp $IN/words.txt .; CMD=(gawk '{ for (i = 1; i <= NF; i++) c[tolower($i)]++; s = s substr($0, 1, 2) } END { n = asorti(c, k); printf "%d %s %s %d %s\n", n, k[1], k[n], length(s), gensub(/(t)(h)/, "\\2\\1", "g", k[n-5]) }' words.txt); }
case_sed()      { cp $IN/words.txt .; CMD=(sed -E -e 's/([a-z]+)ing\b/\1ING/g' -e '/^[[:space:]]*$/d' -e 'y/abc/ABC/' -e '/Program/{s//PROGRAM/;h}' words.txt); }
case_bash()     { CMD=(bash -c 'declare -A h; for i in {1..3000}; do h[k$i]=$((i * i)); done; s=0; for k in "${!h[@]}"; do s=$((s + h[$k])); done
a=(); for i in {1..2000}; do a+=("v$i"); done; f() { local x=$1; echo ${#x}; }; y=$(f "${a[*]}"); str=${a[*]}; str=${str//v1/V1}; echo $s ${#a[@]} $y ${#str}'); }
case_dash()     { CMD=(dash -c 'i=0; s=""; while [ $i -lt 1500 ]; do s="$s$i,"; eval "v$i=$i"; i=$((i + 1)); done; set -- $(echo a b c d); x=$(echo hi); echo ${#s} $v77 $# $x'); }
case_bc()       { printf 'scale=300\n4*a(1)\ne(1)\ndefine f(n) { if (n < 2) return n; return f(n-1) + f(n-2); }\nf(20)\nsqrt(2)\nquit\n' > s.bc; CMD=(bc -l s.bc); }
case_gzip()     { cp $IN/words.txt .; CMD=(gzip -9 -c words.txt); }
case_bzip2()    { cp $IN/words.txt .; CMD=(bzip2 -9 -c words.txt); }
case_xz()       { cp $IN/words.txt .; CMD=(xz -6 -c words.txt); }
case_zstd()     { cp $IN/words.txt .; CMD=(zstd -q -12 -c words.txt); }
case_git_log()  { cp $IN/prog.c $IN/words.txt .; git init -q .; git add -A; git commit -q -m one
	sed -i 's/GNU/Gnu/g' words.txt; sed -i 's/s += /s -= /' prog.c; git commit -q -am two
	cp $IN/words2.txt words.txt; git commit -q -am three
	CMD=(git log -p --stat --no-color); }
case_sqlite3()  { cat > s.sql <<'S'
create table t(id integer primary key, k integer, name text, v real);
with recursive r(i) as (select 1 union all select i + 1 from r where i < 20000)
insert into t(k, name, v) select i % 97, 'name' || i, i * 0.5 from r;
create index tk on t(k);
select k, count(*), sum(v), max(name) from t group by k order by 3 desc limit 5;
select count(*) from t a join t b on a.k = b.k and a.id < 100 and b.id < 3000;
update t set v = v * 2 where k = 7; delete from t where id % 3 = 0; select count(*), total(v) from t;
S
	CMD=(sqlite3 db.sqlite); STDIN=s.sql; }
case_make()     { { echo 'OBJS := $(patsubst %,o%.x,$(shell seq 1 40))'; echo 'all: $(OBJS)'
	echo '	@echo $(words $^) $(firstword $(sort $^))'
	echo 'o%.x: s%.y'; echo '	@touch $@'
	echo 's%.y:'; echo '	@touch $@'; } > Makefile
	CMD=(make -r -j1 -f Makefile); }
case_tar()      { mkdir -p d/sub; cp $IN/words.txt $IN/prog.c $IN/prog.s d/
	for i in $(seq 300); do echo "file $i" > d/sub/f$i; done; CMD=(tar --sort=name -cf - d); }
case_sort()     { cp $IN/words.txt .; CMD=(sort -f -k2 words.txt); }
case_diff()     { cp $IN/words.txt $IN/words2.txt .; CMD=(diff -u words.txt words2.txt); }
case_find()     { CMD=(find /usr/include -name '*.h' -size +4k -newer /usr/include/stdio.h -printf '%p %s\n'); }
case_grep()     { CMD=(grep -rnE '#define [A-Z_]+[[:space:]]+0x[0-9a-f]{4,}' /usr/include/linux); }
case_jq()       { cp $IN/data.json .; CMD=(jq -c 'group_by(.k) | map({k: .[0].k, n: length, s: (map(.v) | add), t: ([.[].tags[]] | unique)}) | sort_by(-.s) | .[0:5]' data.json); }
case_openssl()  { cp $IN/words.txt $IN/prog.c .; CMD=(openssl dgst -sha256 words.txt prog.c); }
case_objdump()  { cp $IN/a.out .; CMD=(objdump -d -S -l a.out); }
case_readelf()  { cp $IN/a.out .; CMD=(readelf -a -W --debug-dump=info,line a.out); }
case_nm()       { CMD=(nm -D -C --size-sort /usr/lib/x86_64-linux-gnu/libstdc++.so.6); }
case_file()     { cp $IN/a.out $IN/prog.c $IN/words.txt $IN/prog.s $IN/data.json .
	touch -d '2024-01-01 00:00:00 UTC' words.txt; gzip -k words.txt
	CMD=(file a.out prog.c words.txt prog.s data.json words.txt.gz /usr/bin/bash /usr/lib/x86_64-linux-gnu/libc.so.6); }
case_gdb()      { cp $IN/a.out .; CMD=(gdb -nx --batch -ex 'info functions ^f1' -ex 'info line main' -ex 'ptype struct node' ./a.out); }

# extra, not among the 35: gdb without its DWARF-indexing worker threads (a deterministic run)
case_gdb_nothreads() { cp $IN/a.out .; CMD=(gdb -nx --batch -iex 'maint set worker-threads 0' -ex 'info functions ^f1' -ex 'info line main' -ex 'ptype struct node' ./a.out); }

# ---------- running ----------
base_env() {  # the environment both sides start from (valgrind's /usr/bin/valgrind script adds to it)
	BASE=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C LC_ALL=C
	      PERL_HASH_SEED=0 PYTHONHASHSEED=0 PYTHONMALLOC=malloc GLIBC_TUNABLES=$TUN PWD=$1 TZ=UTC
	      USER=root LOGNAME=root SHELL=/bin/sh
	      GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=bar GIT_AUTHOR_EMAIL=bar@example.org
	      GIT_COMMITTER_NAME=bar GIT_COMMITTER_EMAIL=bar@example.org
	      GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z')
}

fresh() {  # $1 name: recreate the run dir, run the case's setup in it
	local d=$RUN/$1
	rm -rf "$d"; mkdir -p "$d"; cd "$d" || exit 1
	STDIN=/dev/null; CMD=()
	base_env "$d"
	# the setup runs in this shell (it sets CMD, STDIN), with the case environment exported
	local b; for b in "${BASE[@]}"; do export "$b"; done
	case_$1 >/dev/null 2>&1 < /dev/null || { echo "setup of $1 failed" >&2; return 1; }
	# fixed timestamps: gzip, tar, diff and file print them
	find . -exec touch -h -d '2024-01-01 00:00:00 UTC' {} +
}

run_one() {
	local n=$1 o=$OUT/$1 rc tries
	mkdir -p $o; rm -f $o/*
	# --- valgrind side ---
	for tries in 1 2 3 4 5 6 7 8; do
		fresh $n || return
		printf '%q ' "${CMD[@]}" > $o/cmd.txt; echo >> $o/cmd.txt
		env -i "${BASE[@]}" timeout $TMO valgrind --leak-check=full --show-leak-kinds=all \
			--run-libc-freeres=no --run-cxx-freeres=no --log-file=$o/vg.log \
			"${CMD[@]}" < $STDIN > $o/vg.out 2> $o/vg.err
		rc=$?; echo $rc > $o/vg.rc
		if grep -q 'signal 5 (SIGTRAP)' $o/vg.log || [ $rc = 133 ]; then
			echo "  $n: valgrind died of SIGTRAP, rerun ($tries)" >&2; sleep 10; continue
		fi
		break
	done
	# the environment valgrind's client gets, in its order: capture it, LD_PRELOAD made as long but libc only
	fresh $n || return
	env -i "${BASE[@]}" valgrind -q --leak-check=no /usr/bin/env -0 > $o/vg.env 2>/dev/null
	mapfile -d '' VE < $o/vg.env
	local i libc=/lib/x86_64-linux-gnu/libc.so.6
	for i in "${!VE[@]}"; do
		if [[ ${VE[$i]} == LD_PRELOAD=* ]]; then
			local v=${VE[$i]#LD_PRELOAD=} pad
			pad=$(printf '%*s' $(( ${#v} - ${#libc} )) '' | tr ' ' /)
			VE[$i]="LD_PRELOAD=$pad$libc"
		fi
		if [[ -n $LT_TUNABLES && ${VE[$i]} == GLIBC_TUNABLES=* ]]; then
			VE[$i]="${VE[$i]}:$LT_TUNABLES"
		fi
	done
	printf '%s\n' "${VE[@]}" > $o/lt.env
	# --- leaktrace side (fresh dir again) ---
	fresh $n || return
	env -i "${VE[@]}" timeout $TMO $LT -q --no-children -o $o/lt.json -- "${CMD[@]}" \
		< $STDIN > $o/lt.out 2> $o/lt.err
	echo $? > $o/lt.rc
	python3 "$BAR/compare.py" $n $o/vg.log $o/lt.json $o/vg.out $o/lt.out $(cat $o/vg.rc) $(cat $o/lt.rc) | tee $o/result.txt
}

command -v valgrind >/dev/null || { echo "bar: no valgrind (tools/install-deps bar)" >&2; exit 1; }
[ -x "$LT" ] || { echo "bar: no leaktrace at $LT (make leaktrace, or LEAKTRACE=...)" >&2; exit 1; }
mkdir -p "$OUT"
mk_inputs
[ $# -gt 0 ] && LIST=("$@") || LIST=("${ALL[@]}")
: > $OUT/results.txt
for n in "${LIST[@]}"; do
	declare -F case_$n >/dev/null || { echo "bar: no case $n" >&2; continue; }
	start=$SECONDS
	r=$(run_one $n)
	echo "$r  [$((SECONDS - start))s]"
	echo "$r" >> $OUT/results.txt
done
echo "bar: $(grep -c ' MATCH' $OUT/results.txt) of $(wc -l < $OUT/results.txt) programs equal valgrind" \
	"in every kind, bytes and blocks ($OUT/results.txt)"
