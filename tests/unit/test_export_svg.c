// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The SVG flamegraph: the golden file, its geometry, and a real browser clicking it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "export_svg.h"
#include "golden.h"

static char *svg_of(const struct snapshot *snap)
{
	struct capture c;

	cr_assert_eq(export_svg__write(golden__open(&c), snap), 0);
	golden__close(&c);
	return c.buf;
}

static char *golden_svg(void)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	char *svg = svg_of(snap);

	snapshot__free(snap);
	return svg;
}

Test(export_svg, matches_golden_file)
{
	char *svg = golden_svg();

	golden__check("tests/unit/golden/snapshot.svg", svg, strlen(svg));
	free(svg);
}

/* 1,234,567 of 2,287,539 bytes over the 1180 px between the margins. */
Test(export_svg, frame_width_is_proportional_to_bytes)
{
	char *svg = golden_svg();
	char *g = strstr(svg, "<g class=\"f\" data-name=\"leak_here\"");

	cr_assert_not_null(g, "%s", svg);
	cr_assert_not_null(strstr(g, "data-bytes=\"1234567\" data-allocs=\"1001\""));
	cr_assert_not_null(strstr(g, "width=\"636.84\""), "%.600s", g);
	cr_assert_not_null(strstr(svg, "<g class=\"f\" data-name=\"all\" data-module=\"\" "
				       "data-bytes=\"2287539\""),
			   "%s", svg);
	free(svg);
}

Test(export_svg, tooltip_has_function_module_bytes_share_and_count)
{
	char *svg = golden_svg();

	cr_assert_not_null(strstr(svg, "<title>leak_here\nmodule: /usr/bin/leaky\n1,234,567 bytes "
				       "(1.2 MiB), 53.97% of all\n1,001 allocations</title>"),
			   "%s", svg);
	free(svg);
}

Test(export_svg, title_names_processes_host_and_time)
{
	char *svg = golden_svg();

	cr_assert_not_null(strstr(svg, ">Outstanding memory: leaky (pid 4242), gone (pid 777) on "
				       "host-01</text>"),
			   "%s", svg);
	cr_assert_not_null(strstr(svg, ">2023-11-14 22:13:32 UTC, 12.5 s traced, 2.2 MiB in "
				       "1,006 allocations</text>"),
			   "%s", svg);
	free(svg);
}

Test(export_svg, is_self_contained)
{
	char *svg = golden_svg();

	cr_assert_null(strstr(svg, "href"), "links to something");
	cr_assert_null(strstr(svg, "src="), "loads something");
	cr_assert_null(strstr(svg, "url("), "loads something");
	cr_assert_not_null(strstr(svg, "<script type=\"text/ecmascript\"><![CDATA["));
	cr_assert_not_null(strstr(svg, "id=\"search\""));
	free(svg);
}

Test(export_svg, names_are_escaped_for_xml)
{
	static const struct frame fr = { "operator<< <A&B>", 0, "/m\"x", 0x10, 0, false, NULL };
	struct stack_stat s = { .bytes = 100,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &fr },
				.nr_frames = 1 };
	struct proc_stat p = { .pid = 1, .comm = "c\xff", .stacks = &s, .nr_stacks = 1 };
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *svg = svg_of(&snap);

	cr_assert_not_null(strstr(svg, "data-name=\"operator&lt;&lt; &lt;A&amp;B&gt;\" "
				       "data-module=\"/m&quot;x\""),
			   "%s", svg);
	cr_assert_not_null(strstr(svg, "c\xef\xbf\xbd (pid 1)"), "%s", svg);
	free(svg);
}

Test(export_svg, empty_snapshot_is_a_valid_picture)
{
	struct snapshot snap = { .host = "h" };
	char *svg = svg_of(&snap);

	cr_assert_not_null(strstr(svg, "Outstanding memory: no process on h"), "%s", svg);
	cr_assert_not_null(strstr(svg, "</svg>\n"));
	free(svg);
}

/*
 * The browser test: headless Chromium opens the flamegraph with a probe script
 * appended, which measures the rendered rectangles, clicks leak_here, types in
 * the search box, and writes what it saw into the document that --dump-dom prints.
 */
static const char probe[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"(function () {\n"
	"  function w(g) { return g.querySelector('rect').getBoundingClientRect().width; }\n"
	"  function q(name) { return document.querySelector('g.f[data-name=\"' + name + '\"]'); }\n"
	"  var out = [], leak = q('leak_here'), root = q('all'), rw = w(root);\n"
	"  out.push('share=' + (w(leak) / rw).toFixed(4));\n"
	"  leak.dispatchEvent(new MouseEvent('click', { bubbles: true }));\n"
	"  out.push('zoomed=' + (w(leak) / rw).toFixed(4));\n"
	"  out.push('parent=' + (w(q('main')) / rw).toFixed(4));\n"
	"  out.push('sibling=' + getComputedStyle(q('cache_fill')).display);\n"
	"  out.push('attr=' + document.documentElement.getAttribute('data-zoomed'));\n"
	"  var s = document.getElementById('search');\n"
	"  s.value = 'leak_h';\n"
	"  s.dispatchEvent(new Event('input'));\n"
	"  out.push('match=' + leak.classList.contains('match'));\n"
	"  out.push('matched=' + document.getElementById('matched').textContent.replace(' ', ''));\n"
	"  var t = document.createElementNS('http://www.w3.org/2000/svg', 'text');\n"
	"  t.id = 'probe';\n"
	"  t.textContent = out.join(' ');\n"
	"  document.documentElement.appendChild(t);\n"
	"})();\n"
	"]]></script>\n";

static const char *chromium(void)
{
	const char *c = getenv("CHROMIUM");

	return c ? c : "chromium";
}

static bool have_chromium(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", chromium());
	return !system(cmd);
}

/* Runs Chromium on path; returns the probe's line. */
static char *browse(const char *path)
{
	char cmd[1024], line[4096], *found = NULL;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "profile=$(mktemp -d) && timeout 60 %s --headless "
		 "--no-sandbox --disable-gpu --disable-background-networking "
		 "--disable-component-update --disable-sync --no-first-run "
		 "--user-data-dir=\"$profile\" --dump-dom file://%s 2>/dev/null; "
		 "rm -rf \"$profile\"",
		 chromium(), path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *at = strstr(line, "id=\"probe\">");

		if (at && !found)
			found = strndup(at + 11, strcspn(at + 11, "<"));
	}
	pclose(p);
	cr_assert_not_null(found, "Chromium printed no probe result for %s", path);
	return found;
}

Test(export_svg, chromium_shows_the_leak_and_zooms_on_click, .timeout = 90)
{
	char path[] = "/tmp/lt-flamegraph-XXXXXX.svg", *svg, *end, *got;
	FILE *f;
	int fd;

	if (!have_chromium()) {
		fprintf(stderr,
			"SKIPPED export_svg::chromium_shows_the_leak_and_zooms_on_click: "
			"no %s (tools/install-deps test installs it)\n",
			chromium());
		cr_skip_test("no chromium");
	}
	svg = golden_svg();
	end = strstr(svg, "</svg>");
	fd = mkstemps(path, 4);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "%.*s%s</svg>\n", (int)(end - svg), svg, probe);
	fclose(f);
	got = browse(path);
	unlink(path);
	cr_assert_str_eq(got, "share=0.5397 zoomed=1.0000 parent=1.0000 sibling=none "
			      "attr=leak_here match=true matched=Matched:53.97%");
	free(got);
	free(svg);
}

/* The file written to a temporary path, checked as XML by xmllint. */
static void assert_valid_xml(const char *svg)
{
	char path[] = "/tmp/lt-svg-XXXXXX", cmd[64];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	fputs(svg, f);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	cr_assert_eq(system(cmd), 0, "xmllint refused the SVG (see tools/install-deps test)");
	unlink(path);
}

/* Not strstr in a loop: under ASan each call measures the rest of a 30 MB string. */
static size_t count_of(const char *s, const char *what)
{
	size_t n = 0, len = strlen(what);

	for (; *s; s++)
		n += *s == *what && !strncmp(s, what, len);
	return n;
}

/* One stack 60,000 frames deep: drawn frame by frame, without recursion. */
Test(export_svg, deep_stack_is_drawn_whole, .timeout = 120)
{
	enum { DEPTH = 60000 };
	struct frame *fr = calloc(DEPTH, sizeof(*fr));
	const struct frame **list = calloc(DEPTH, sizeof(*list));
	char(*names)[16] = calloc(DEPTH, sizeof(*names));
	struct stack_stat s = { .bytes = 4096, .allocs = 1, .frames = list, .nr_frames = DEPTH };
	struct proc_stat p = { .pid = 1, .comm = "deep", .stacks = &s, .nr_stacks = 1 };
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *svg, want[64];

	for (int i = 0; i < DEPTH; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		fr[i].symbol = names[i];
		list[i] = &fr[i];
	}
	svg = svg_of(&snap);
	/* The root, the process and every frame; frame 0, innermost, at the top. */
	cr_assert_eq(count_of(svg, "<g class=\"f\""), DEPTH + 2);
	snprintf(want, sizeof(want), "data-name=\"f0\" data-module=\"\" data-bytes=\"4096\"");
	cr_assert_not_null(strstr(svg, want));
	snprintf(want, sizeof(want), "data-allocs=\"1\" data-depth=\"%d\">", DEPTH + 1);
	cr_assert_not_null(strstr(strstr(svg, "data-name=\"f0\""), want));
	assert_valid_xml(svg);
	free(svg);
	free(names);
	free(list);
	free(fr);
}

/* 100,000 sibling stacks of one process: each name looked up in O(1), same-named ones merged. */
Test(export_svg, many_sibling_stacks_are_merged_by_name, .timeout = 120)
{
	enum { N = 100000 };
	struct stack_stat *s = calloc(N, sizeof(*s));
	struct frame *fr = calloc(N, sizeof(*fr));
	const struct frame **list = calloc(N, sizeof(*list));
	char(*names)[16] = calloc(N, sizeof(*names));
	struct proc_stat p = { .pid = 1, .comm = "wide", .stacks = s, .nr_stacks = N };
	struct snapshot snap = { .host = "h", .procs = &p, .nr_procs = 1 };
	char *svg;

	for (int i = 0; i < N; i++) {
		/* Stack 1 has stack 0's function: one frame of both. */
		snprintf(names[i], sizeof(names[i]), "f%d", i == 1 ? 0 : i);
		fr[i].symbol = names[i];
		list[i] = &fr[i];
		s[i] = (struct stack_stat){ .bytes = i < 2 ? 1000000 : 1,
					    .allocs = 1,
					    .frames = &list[i],
					    .nr_frames = 1 };
	}
	svg = svg_of(&snap);
	/* Frames narrower than 0.1 px are left out: the root, the process and f0 remain. */
	cr_assert_eq(count_of(svg, "<g class=\"f\""), 3, "%.2000s", svg);
	cr_assert_not_null(strstr(svg, "data-name=\"f0\" data-module=\"\" data-bytes=\"2000000\" "
				       "data-allocs=\"2\""));
	cr_assert_not_null(strstr(svg, "data-name=\"all\" data-module=\"\" data-bytes=\"2099998\" "
				       "data-allocs=\"100000\""));
	assert_valid_xml(svg);
	free(svg);
	free(names);
	free(list);
	free(fr);
	free(s);
}

/* A frame's source line in its tooltip; a box whose stacks are on several lines says so. */
static const struct frame src_a[] = {
	{ .symbol = "make_block",
	  .module = "/usr/bin/leaky",
	  .address = 0x11a5,
	  .file = "/src/inlined.c",
	  .line = 17,
	  .inlined = true },
	{ .symbol = "leak_inlined",
	  .module = "/usr/bin/leaky",
	  .address = 0x11a5,
	  .file = "/src/inlined.c",
	  .line = 28 },
};
static const struct frame src_b[] = {
	{ .symbol = "make_block",
	  .module = "/usr/bin/leaky",
	  .address = 0x11c5,
	  .file = "/src/inlined.c",
	  .line = 17,
	  .inlined = true },
	{ .symbol = "leak_inlined",
	  .module = "/usr/bin/leaky",
	  .address = 0x11c5,
	  .file = "/src/inlined.c",
	  .line = 31 },
};
static struct stack_stat src_stacks[] = {
	{ .stack_id = 1,
	  .kind = STACK_HEAP,
	  .bytes = 640,
	  .allocs = 10,
	  .frames = (const struct frame *const[]){ &src_a[0], &src_a[1] },
	  .nr_frames = 2 },
	{ .stack_id = 2,
	  .kind = STACK_HEAP,
	  .bytes = 64,
	  .allocs = 1,
	  .frames = (const struct frame *const[]){ &src_b[0], &src_b[1] },
	  .nr_frames = 2 },
};
static struct proc_stat src_proc = { .pid = 9,
				     .comm = "leaky",
				     .stacks = src_stacks,
				     .nr_stacks = 2 };
static const struct snapshot src_snap = { .host = "h", .procs = &src_proc, .nr_procs = 1 };

Test(export_svg, tooltip_has_the_source_line)
{
	char *svg = svg_of(&src_snap);

	cr_assert_not_null(strstr(svg, "<title>make_block\nmodule: /usr/bin/leaky\nsource: "
				       "/src/inlined.c:17 (inlined)\n"),
			   "%s", svg);
	cr_assert_not_null(strstr(svg, "<title>leak_inlined\nmodule: /usr/bin/leaky\nsource: "
				       "/src/inlined.c (several lines)\n"),
			   "%s", svg);
	free(svg);
}
