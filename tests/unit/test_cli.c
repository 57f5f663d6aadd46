// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cli: options into a config, defaults, and one "leaktrace: " line per error. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

#include "cli.h"
#include "exit_status.h"
#include "leaktrace.h"
#include "suppress.h"

/* An argv literal: { "leaktrace", args..., NULL }; getopt with '+' never reorders it. */
#define ARGV(...) ((char *[]){ "leaktrace", __VA_ARGS__, NULL })

/* What cli__parse printed: the whole of stdout and stderr of one call. */
struct output {
	char out[32768]; /* --help is 12 KB */
	char err[8192];
};

static int argv_len(char **argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

static int redirect(FILE *stream, int fd, FILE **tmp)
{
	int saved;

	fflush(stream);
	*tmp = tmpfile();
	cr_assert_not_null(*tmp);
	saved = dup(fd);
	cr_assert_geq(saved, 0);
	cr_assert_geq(dup2(fileno(*tmp), fd), 0);
	return saved;
}

static void restore(FILE *stream, int fd, int saved, FILE *tmp, char *buf, size_t size)
{
	size_t n;

	fflush(stream);
	cr_assert_geq(dup2(saved, fd), 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

/* Parses argv with stdout and stderr captured into *o. */
static enum cli_result parse(char **argv, struct config *cfg, struct output *o)
{
	FILE *tout, *terr;
	int sout, serr;
	enum cli_result r;

	sout = redirect(stdout, STDOUT_FILENO, &tout);
	serr = redirect(stderr, STDERR_FILENO, &terr);
	r = cli__parse(argv_len(argv), argv, cfg);
	restore(stderr, STDERR_FILENO, serr, terr, o->err, sizeof(o->err));
	restore(stdout, STDOUT_FILENO, sout, tout, o->out, sizeof(o->out));
	return r;
}

static int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* An error: CLI_EXIT_USAGE, nothing on stdout, one "leaktrace: ..." line on stderr. */
static void assert_usage_error(char **argv)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(argv, &cfg, &o), CLI_EXIT_USAGE);
	cr_assert_str_empty(o.out);
	cr_assert_eq(strncmp(o.err, "leaktrace: ", 11), 0, "stderr: '%s'", o.err);
	cr_assert_eq(count_char(o.err, '\n'), 1, "stderr: '%s'", o.err);
	cr_assert_eq(o.err[strlen(o.err) - 1], '\n', "stderr: '%s'", o.err);
}

/* An error whose whole stderr is WANT. */
static void assert_error_is(char **argv, const char *want)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(argv, &cfg, &o), CLI_EXIT_USAGE);
	cr_assert_str_empty(o.out);
	cr_assert_str_eq(o.err, want);
}

/* A successful parse: CLI_RUN and nothing printed. */
static void assert_run(char **argv, struct config *cfg)
{
	struct output o;

	cr_assert_eq(parse(argv, cfg, &o), CLI_RUN, "stderr: '%s'", o.err);
	cr_assert_str_empty(o.out);
	cr_assert_str_empty(o.err);
}

Test(cli, defaults_with_one_pid)
{
	struct config cfg;

	assert_run(ARGV("-p", "4242"), &cfg);
	cr_assert_eq(cfg.nr_pids, 1);
	cr_assert_eq(cfg.pids[0], 4242);
	cr_assert_null(cfg.command);
	cr_assert_eq(cfg.interval, 5.0);
	cr_assert_eq(cfg.duration, 0.0);
	cr_assert_eq(cfg.top, 10);
	cr_assert_null(cfg.output);
	cr_assert_eq(cfg.format, LT_FORMAT_NONE);
	cr_assert_not(cfg.quiet);
	cr_assert_not(cfg.verbose);
	cr_assert_eq(cfg.older, 0.0);
	cr_assert_eq(cfg.min_size, 0);
	cr_assert_eq(cfg.max_size, UINT64_MAX);
	cr_assert_eq(cfg.max_allocs, 1048576);
	cr_assert_eq(cfg.max_stacks, 16384);
}

Test(cli, repeated_pid_options_keep_their_order)
{
	struct config cfg;

	assert_run(ARGV("-p", "30", "--pid", "10", "-p20"), &cfg);
	cr_assert_eq(cfg.nr_pids, 3);
	cr_assert_eq(cfg.pids[0], 30);
	cr_assert_eq(cfg.pids[1], 10);
	cr_assert_eq(cfg.pids[2], 20);
}

Test(cli, sixty_four_pids_are_accepted)
{
	char *argv[2 + 2 * LT_MAX_PIDS] = { "leaktrace" };
	char pids[LT_MAX_PIDS][16];
	struct config cfg;

	for (int i = 0; i < LT_MAX_PIDS; i++) {
		snprintf(pids[i], sizeof(pids[i]), "%d", 100 + i);
		argv[1 + 2 * i] = "-p";
		argv[2 + 2 * i] = pids[i];
	}
	assert_run(argv, &cfg);
	cr_assert_eq(cfg.nr_pids, LT_MAX_PIDS);
	cr_assert_eq(cfg.pids[LT_MAX_PIDS - 1], 100 + LT_MAX_PIDS - 1);
}

Test(cli, sixty_fifth_pid_is_an_error)
{
	char *argv[2 + 2 * (LT_MAX_PIDS + 1)] = { "leaktrace" };
	char pids[LT_MAX_PIDS + 1][16];

	for (int i = 0; i < LT_MAX_PIDS + 1; i++) {
		snprintf(pids[i], sizeof(pids[i]), "%d", 100 + i);
		argv[1 + 2 * i] = "-p";
		argv[2 + 2 * i] = pids[i];
	}
	assert_usage_error(argv);
}

Test(cli, command_after_double_dash_keeps_its_own_options)
{
	char **argv = ARGV("-q", "--", "cmd", "-x", "-p", "5");
	struct config cfg;

	assert_run(argv, &cfg);
	cr_assert(cfg.quiet);
	cr_assert_eq(cfg.nr_pids, 0);
	cr_assert_eq(cfg.command, &argv[3]);
	cr_assert_str_eq(cfg.command[0], "cmd");
	cr_assert_str_eq(cfg.command[1], "-x");
	cr_assert_str_eq(cfg.command[2], "-p");
	cr_assert_str_eq(cfg.command[3], "5");
	cr_assert_null(cfg.command[4]);
}

Test(cli, double_dash_alone_first_gives_command)
{
	char **argv = ARGV("--", "./unit-tests");
	struct config cfg;

	assert_run(argv, &cfg);
	cr_assert_eq(cfg.command, &argv[2]);
	cr_assert_null(cfg.command[1]);
}

Test(cli, command_without_double_dash_is_an_error)
{
	assert_usage_error(ARGV("-q", "ls", "-l"));
}

Test(cli, size_without_suffix_is_bytes)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--min-size", "4096"), &cfg);
	cr_assert_eq(cfg.min_size, 4096);
}

Test(cli, size_suffix_k_is_kibibytes)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--min-size", "64K", "--max-size", "64k"), &cfg);
	cr_assert_eq(cfg.min_size, 65536);
	cr_assert_eq(cfg.max_size, 65536);
}

Test(cli, size_suffix_m_is_mebibytes)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--max-size", "2M"), &cfg);
	cr_assert_eq(cfg.max_size, 2097152);
}

Test(cli, size_suffix_g_is_gibibytes)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--max-size", "1G"), &cfg);
	cr_assert_eq(cfg.max_size, 1073741824);
}

Test(cli, size_suffix_takes_optional_b)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--max-size", "2MB"), &cfg);
	cr_assert_eq(cfg.max_size, 2097152);
}

Test(cli, size_with_unknown_suffix_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--max-size", "12X"));
}

Test(cli, negative_size_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--min-size", "-1"));
}

Test(cli, size_that_overflows_with_suffix_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--max-size", "17179869184G"));
}

Test(cli, interval_duration_top_and_older_are_stored)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "-i", "0.5", "-d", "60", "-n", "3", "--older", "30", "-v"),
		   &cfg);
	cr_assert_eq(cfg.interval, 0.5);
	cr_assert_eq(cfg.duration, 60.0);
	cr_assert_eq(cfg.top, 3);
	cr_assert_eq(cfg.older, 30.0);
	cr_assert(cfg.verbose);
}

Test(cli, map_limits_are_stored)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--max-allocs", "4096", "--max-stacks", "64"), &cfg);
	cr_assert_eq(cfg.max_allocs, 4096);
	cr_assert_eq(cfg.max_stacks, 64);
}

Test(cli, max_allocs_below_1024_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--max-allocs", "1023"));
}

Test(cli, pid_that_is_not_a_number_is_an_error)
{
	assert_usage_error(ARGV("-p", "abc"));
}

Test(cli, pid_zero_is_an_error)
{
	assert_usage_error(ARGV("-p", "0"));
}

Test(cli, negative_pid_is_an_error)
{
	assert_usage_error(ARGV("-p", "-5"));
}

Test(cli, interval_zero_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "-i", "0"));
}

Test(cli, negative_interval_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "-i", "-1"));
}

Test(cli, interval_not_finite_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "-i", "inf"));
}

Test(cli, top_zero_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "-n", "0"));
}

Test(cli, min_size_above_max_size_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--min-size", "10", "--max-size", "5"));
}

Test(cli, output_with_unknown_extension_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "-o", "file.xyz"));
}

Test(cli, output_without_extension_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "-o", "snapshot"));
}

Test(cli, unknown_format_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--format", "yaml", "-o", "x.json"));
}

Test(cli, format_without_output_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--format", "json"));
}

Test(cli, pid_and_command_together_are_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--", "ls"));
}

Test(cli, no_target_is_an_error)
{
	assert_usage_error(ARGV("-q"));
}

Test(cli, no_arguments_is_an_error)
{
	assert_usage_error((char *[]){ "leaktrace", NULL });
}

Test(cli, unknown_option_is_an_error)
{
	assert_usage_error(ARGV("-p", "1", "--bogus"));
}

Test(cli, option_missing_its_argument_is_an_error)
{
	assert_usage_error(ARGV("-p"));
}

/* main passes its own argv[0], which is a path when run as ./leaktrace. */
Test(cli, getopt_errors_start_with_leaktrace_when_run_by_path)
{
	assert_usage_error((char *[]){ "./leaktrace", "-p", "1", "--bogus", NULL });
}

Test(cli, output_json_extension_selects_json)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "-o", "x.json"), &cfg);
	cr_assert_str_eq(cfg.output, "x.json");
	cr_assert_eq(cfg.format, LT_FORMAT_JSON);
}

Test(cli, output_txt_extension_selects_text)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--output", "dir.d/x.txt"), &cfg);
	cr_assert_str_eq(cfg.output, "dir.d/x.txt");
	cr_assert_eq(cfg.format, LT_FORMAT_TEXT);
}

Test(cli, format_overrides_unknown_extension)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--format", "text", "-o", "x.out"), &cfg);
	cr_assert_str_eq(cfg.output, "x.out");
	cr_assert_eq(cfg.format, LT_FORMAT_TEXT);
}

Test(cli, dash_output_is_stdout_in_text_unless_format_says)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "-o", "-"), &cfg);
	cr_assert_str_eq(cfg.output, "-");
	cr_assert_eq(cfg.format, LT_FORMAT_TEXT);
	assert_run(ARGV("-p", "1", "-o", "-", "--format", "folded"), &cfg);
	cr_assert_eq(cfg.format, LT_FORMAT_FOLDED);
}

Test(cli, format_overrides_known_extension)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--format", "json", "-o", "x.txt"), &cfg);
	cr_assert_eq(cfg.format, LT_FORMAT_JSON);
}

Test(cli, help_prints_usage_to_stdout_and_exits_ok)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("--help"), &cfg, &o), CLI_EXIT_OK);
	cr_assert_eq(strncmp(o.out, "Usage: leaktrace ", 17), 0, "stdout: '%.40s'", o.out);
	cr_assert_str_empty(o.err);
}

/* Each status of exit_status.h has its line in --help's table, in order. */
Test(cli, help_lists_every_exit_status)
{
	static const int statuses[] = { LT_EXIT_OK,	   LT_EXIT_FAILURE, LT_EXIT_USAGE,
					LT_EXIT_LEAK,	   LT_EXIT_NO_BPF,  LT_EXIT_NOT_PERMITTED,
					LT_EXIT_NO_TARGET, LT_EXIT_HELD_OFF };
	const char *table, *at;
	struct output o;
	struct config cfg;
	char line[16];

	cr_assert_eq(parse(ARGV("--help"), &cfg, &o), CLI_EXIT_OK);
	table = strstr(o.out, "\nExit status:\n");
	cr_assert_not_null(table, "--help has no exit status table");
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		snprintf(line, sizeof(line), "\n  %d    ", statuses[i]);
		at = strstr(table, line);
		cr_assert_not_null(at, "--help's table lacks status %d", statuses[i]);
		cr_assert_gt(at, table, "status %d is out of order", statuses[i]);
		table = at;
	}
}

Test(cli, short_help_wins_over_missing_target)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("-h"), &cfg, &o), CLI_EXIT_OK);
	cr_assert_eq(strncmp(o.out, "Usage:", 6), 0);
	cr_assert_str_empty(o.err);
}

Test(cli, version_prints_one_line_and_exits_ok)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("--version"), &cfg, &o), CLI_EXIT_OK);
	cr_assert_str_eq(o.out, "leaktrace 0.1.0\n");
	cr_assert_str_empty(o.err);
}

/* getopt keeps state between calls: a second parse must not see the first one's leftovers. */
Test(cli, second_parse_after_error_inside_option_cluster_starts_fresh)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("-Zq", "-p", "1"), &cfg, &o), CLI_EXIT_USAGE);
	assert_run(ARGV("-p", "2"), &cfg);
	cr_assert_not(cfg.quiet);
	cr_assert_eq(cfg.nr_pids, 1);
	cr_assert_eq(cfg.pids[0], 2);
}

Test(cli, second_parse_gets_fresh_defaults)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "-n", "3", "-q"), &cfg);
	assert_run(ARGV("-p", "2"), &cfg);
	cr_assert_eq(cfg.top, 10);
	cr_assert_not(cfg.quiet);
	cr_assert_eq(cfg.nr_pids, 1);
	cr_assert_eq(cfg.pids[0], 2);
}

Test(cli, all_alone_is_a_target)
{
	struct config cfg;

	assert_run(ARGV("-a"), &cfg);
	cr_assert(cfg.all);
	cr_assert_eq(cfg.nr_pids, 0);
	cr_assert_null(cfg.comm);
}

Test(cli, all_with_comm_and_pids_narrows)
{
	struct config cfg;

	assert_run(ARGV("--all", "--comm", "redis-server", "-p", "7"), &cfg);
	cr_assert(cfg.all);
	cr_assert_str_eq(cfg.comm, "redis-server");
	cr_assert_eq(cfg.nr_pids, 1);
	cr_assert_eq(cfg.pids[0], 7);
}

Test(cli, comm_longer_than_a_task_name_is_an_error)
{
	assert_usage_error(ARGV("-a", "--comm", "a-name-of-sixteen"));
}

Test(cli, comm_without_all_is_an_error)
{
	assert_usage_error(ARGV("--comm", "x", "-p", "1"));
}

Test(cli, all_and_command_together_are_an_error)
{
	assert_usage_error(ARGV("-a", "--", "ls"));
}

Test(cli, libs_are_kept_in_order)
{
	struct config cfg;

	assert_run(ARGV("--lib", "/a.so", "--lib", "/b.so", "-p", "1"), &cfg);
	cr_assert_eq(cfg.nr_libs, 2);
	cr_assert_str_eq(cfg.libs[0], "/a.so");
	cr_assert_str_eq(cfg.libs[1], "/b.so");
}

Test(cli, sample_bytes_takes_a_size_and_a_seed)
{
	struct config cfg;

	assert_run(ARGV("--sample-bytes", "512K", "--sample-seed", "42", "-p", "1"), &cfg);
	cr_assert_eq(cfg.sample_bytes, 524288);
	cr_assert_eq(cfg.sample_seed, 42);
}

Test(cli, sample_bytes_below_64_is_an_error)
{
	assert_usage_error(ARGV("--sample-bytes", "63", "-p", "1"));
}

Test(cli, sample_bytes_default_is_exact)
{
	struct config cfg;

	assert_run(ARGV("-p", "1"), &cfg);
	cr_assert_eq(cfg.sample_bytes, 0);
}

Test(cli, unwind_defaults_to_auto)
{
	struct config cfg;

	assert_run(ARGV("-p", "1"), &cfg);
	cr_assert_eq(cfg.unwind, LT_UNWIND_AUTO);
	cr_assert_eq(cfg.max_unwind_mb, 64);
}

Test(cli, unwind_dwarf_and_its_budget)
{
	struct config cfg;

	assert_run(ARGV("--unwind", "dwarf", "--max-unwind-mb", "192", "-p", "1"), &cfg);
	cr_assert_eq(cfg.unwind, LT_UNWIND_DWARF);
	cr_assert_eq(cfg.max_unwind_mb, 192);
	assert_run(ARGV("--unwind=fp", "-p", "1"), &cfg);
	cr_assert_eq(cfg.unwind, LT_UNWIND_FP);
	assert_run(ARGV("--unwind", "auto", "-p", "1"), &cfg);
	cr_assert_eq(cfg.unwind, LT_UNWIND_AUTO);
}

Test(cli, unwind_errors)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("--unwind", "lbr", "-p", "1"), &cfg, &o), CLI_EXIT_USAGE);
	cr_assert_str_eq(o.err,
			 "leaktrace: --unwind: 'lbr' is not a mode: use fp, dwarf or auto\n");
	cr_assert_eq(parse(ARGV("--max-unwind-mb", "193", "-p", "1"), &cfg, &o), CLI_EXIT_USAGE);
	cr_assert_str_eq(o.err, "leaktrace: --max-unwind-mb: '193' is not a whole number from 1 "
				"to 192\n");
	assert_usage_error(ARGV("--max-unwind-mb", "0", "-p", "1"));
}

Test(cli, host_names_the_saved_snapshot)
{
	struct config cfg;

	assert_run(ARGV("-a", "--host", "web-7:2222", "-o", "x.json"), &cfg);
	cr_assert_str_eq(cfg.host, "web-7:2222");
}

Test(cli, host_without_output_is_an_error)
{
	assert_usage_error(ARGV("-a", "--host", "web-7"));
}

Test(cli, empty_host_is_an_error)
{
	assert_usage_error(ARGV("-a", "--host", "", "-o", "x.json"));
}

/* --scan and friends: on by default in run mode only, and what needs what. */
Test(cli, scan_is_on_in_run_mode_and_off_when_attaching)
{
	struct config cfg;

	assert_run(ARGV("--", "ls"), &cfg);
	cr_assert(cfg.scan_final, "the final report scans");
	cr_assert_not(cfg.scan, "the periodic ones do not");
	cr_assert_eq(cfg.scan_freeze, 0);
	assert_run(ARGV("--scan", "--", "ls"), &cfg);
	cr_assert(cfg.scan && cfg.scan_final);
	assert_run(ARGV("--no-scan", "--", "ls"), &cfg);
	cr_assert_not(cfg.scan || cfg.scan_final);
	assert_run(ARGV("-p", "1"), &cfg);
	cr_assert_not(cfg.scan || cfg.scan_final);
	assert_run(ARGV("-p", "1", "--scan"), &cfg);
	cr_assert(cfg.scan && cfg.scan_final);
}

Test(cli, scan_freeze_implies_scan_with_a_default_limit)
{
	struct config cfg;

	assert_run(ARGV("-p", "1", "--scan-freeze"), &cfg);
	cr_assert(cfg.scan);
	cr_assert_eq(cfg.scan_freeze, 2);
	assert_run(ARGV("-p", "1", "--scan-freeze=0.5"), &cfg);
	cr_assert_eq(cfg.scan_freeze, 0.5);
	assert_usage_error(ARGV("-p", "1", "--scan-freeze=0"));
	/* The value after a space, as other options take theirs. */
	assert_run(ARGV("-p", "1", "--scan-freeze", "5"), &cfg);
	cr_assert_eq(cfg.scan_freeze, 5);
	cr_assert_eq(cfg.nr_pids, 1);
	assert_run(ARGV("--scan-freeze", "--", "ls", "5"), &cfg);
	cr_assert_eq(cfg.scan_freeze, 2);
	cr_assert_str_eq(cfg.command[1], "5");
	assert_usage_error(ARGV("--no-scan", "--scan", "--", "ls"));
	assert_usage_error(ARGV("--scan-freeze", "--no-scan", "--", "ls"));
}

Test(cli, fail_on_leak_takes_a_size_and_needs_the_scan)
{
	struct config cfg;

	assert_run(ARGV("--fail-on-leak", "1K", "--", "ls"), &cfg);
	cr_assert(cfg.fail_on_leak);
	cr_assert_eq(cfg.fail_on_leak_bytes, 1024);
	assert_error_is(ARGV("--fail-on-leak", "0", "-p", "1", "--scan"),
			"leaktrace: --fail-on-leak: give a size above 0 (with 0 every run would "
			"fail)\n");
	assert_usage_error(ARGV("--fail-on-leak", "1", "-p", "1"));
	assert_usage_error(ARGV("--fail-on-leak", "1", "--no-scan", "--", "ls"));
	assert_usage_error(ARGV("--fail-on-leak", "lots", "--", "ls"));
}

Test(cli, leak_kinds_take_valgrinds_names)
{
	struct config cfg;

	assert_run(ARGV("--fail-on-leak", "1", "--", "ls"), &cfg);
	cr_assert_eq(cfg.leak_kinds, LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT);
	assert_run(ARGV("--fail-on-leak", "1", "--leak-kinds", "possible", "--", "ls"), &cfg);
	cr_assert_eq(cfg.leak_kinds, LEAK_KIND_POSSIBLE);
	assert_run(ARGV("--leak-kinds", "definite,possible", "--", "ls"), &cfg);
	cr_assert_eq(cfg.leak_kinds, LEAK_KIND_DEFINITE | LEAK_KIND_POSSIBLE);
	assert_run(ARGV("--leak-kinds", "all", "--", "ls"), &cfg);
	cr_assert_eq(cfg.leak_kinds, LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT | LEAK_KIND_POSSIBLE);
	assert_usage_error(ARGV("--leak-kinds", "reachable", "--", "ls"));
	assert_usage_error(ARGV("--leak-kinds", "definite,", "--", "ls"));
	assert_usage_error(ARGV("--leak-kinds", "", "--", "ls"));
}

Test(cli, lost_needs_the_scan_and_a_flamegraph_format)
{
	struct config cfg;

	assert_run(ARGV("--lost", "-o", "x.svg", "--", "ls"), &cfg);
	cr_assert(cfg.lost);
	assert_run(ARGV("--lost", "-o", "x.folded", "-p", "1", "--scan"), &cfg);
	assert_usage_error(ARGV("--lost", "-o", "x.json", "--", "ls"));
	assert_usage_error(ARGV("--lost", "--", "ls"));
	assert_usage_error(ARGV("--lost", "-o", "x.svg", "-p", "1"));
}

Test(cli, suppress_files_are_kept_in_order_and_defaults_stay_on)
{
	struct config cfg;

	assert_run(ARGV("--suppress", "a.supp", "--suppress", "b.supp", "-p", "1"), &cfg);
	cr_assert_eq(cfg.nr_suppress, 2);
	cr_assert_str_eq(cfg.suppress[0], "a.supp");
	cr_assert_str_eq(cfg.suppress[1], "b.supp");
	cr_assert_not(cfg.no_default_suppressions);
	assert_run(ARGV("--no-default-suppressions", "-p", "1"), &cfg);
	cr_assert(cfg.no_default_suppressions);
	cr_assert_eq(cfg.nr_suppress, 0);
}

Test(cli, thirty_third_suppress_file_is_an_error)
{
	char *argv[70] = { "leaktrace" };
	int n = 1;

	for (int i = 0; i < LT_MAX_SUPPRESS + 1; i++) {
		argv[n++] = "--suppress";
		argv[n++] = "x.supp";
	}
	argv[n++] = "-p";
	argv[n++] = "1";
	argv[n] = NULL;
	assert_usage_error(argv);
}

Test(cli, suppress_list_default_prints_the_built_in_set_and_exits_ok)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("--suppress-list-default"), &cfg, &o), CLI_EXIT_OK);
	cr_assert_str_eq(o.out, suppress__default_text());
	cr_assert_not_null(strstr(o.out, "{\n   glibc-stdio-buffer\n   fun:_IO_file_doallocate\n"
					 "}\n"));
	cr_assert_str_empty(o.err);
}

Test(cli, exclude_comm_is_for_all_and_repeatable)
{
	struct config cfg;

	assert_run(ARGV("-a", "--exclude-comm", "java", "--exclude-comm", "node"), &cfg);
	cr_assert_eq(cfg.nr_excludes, 2);
	cr_assert_str_eq(cfg.excludes[0], "java");
	cr_assert_str_eq(cfg.excludes[1], "node");
	assert_usage_error(ARGV("--exclude-comm", "java", "-p", "1"));
	assert_usage_error(ARGV("-a", "--exclude-comm", "a-name-of-sixteen"));
}

Test(cli, allow_translators_is_for_all)
{
	struct config cfg;

	assert_run(ARGV("-a"), &cfg);
	cr_assert_not(cfg.allow_translators);
	assert_run(ARGV("-a", "--allow-translators"), &cfg);
	cr_assert(cfg.allow_translators);
	assert_error_is(ARGV("--allow-translators", "-p", "1"),
			"leaktrace: --allow-translators is for -a: give -a too\n");
}

Test(cli, no_children_is_for_run_mode)
{
	struct config cfg;

	assert_run(ARGV("--", "ls"), &cfg);
	cr_assert_not(cfg.no_children, "children are followed by default");
	assert_run(ARGV("--no-children", "--", "ls"), &cfg);
	cr_assert(cfg.no_children);
	assert_usage_error(ARGV("--no-children", "-p", "1"));
}

/* Durations become u64 nanoseconds: beyond a year is refused, not wrapped. */
Test(cli, durations_are_bounded)
{
	struct config cfg;

	assert_error_is(ARGV("-d", "1e19", "-p", "1"),
			"leaktrace: -d: '1e19' is out of range: at most 31536000 seconds (a "
			"year)\n");
	assert_error_is(ARGV("-i", "2e10", "-d", "3", "-p", "1"),
			"leaktrace: -i: '2e10' is out of range: at most 31536000 seconds (a "
			"year)\n");
	assert_error_is(ARGV("--older", "1e300", "-p", "1"),
			"leaktrace: --older: '1e300' is out of range: at most 31536000 seconds (a "
			"year)\n");
	assert_error_is(ARGV("-d", "inf", "-p", "1"),
			"leaktrace: -d: 'inf' is not a number of seconds above 0\n");
	assert_run(ARGV("-d", "31536000", "-i", "31536000", "-p", "1"), &cfg);
	cr_assert_eq(cfg.duration, 31536000);
	cr_assert_eq(cfg.interval, 31536000);
}

Test(cli, agent_defaults)
{
	struct config cfg;

	assert_run(ARGV("agent", "-p", "42"), &cfg);
	cr_assert(cfg.agent.on);
	cr_assert_str_eq(cfg.agent.listen, "127.0.0.1:9464");
	cr_assert_eq(cfg.agent.history, 720);
	cr_assert_str_eq(cfg.agent.state_dir, "/var/lib/leaktrace");
	cr_assert_eq(cfg.top, 10);
	cr_assert_eq(cfg.nr_pids, 1);
	cr_assert_not(cfg.all);
	cr_assert_eq(cfg.sample_bytes, 512 * 1024, "the agent samples by default");
}

Test(cli, agent_sample_bytes_0_is_exact)
{
	struct config cfg;

	assert_run(ARGV("agent", "--sample-bytes", "0", "-p", "42"), &cfg);
	cr_assert_eq(cfg.sample_bytes, 0);
	assert_run(ARGV("agent", "--sample-bytes", "4K", "-p", "42"), &cfg);
	cr_assert_eq(cfg.sample_bytes, 4096);
}

Test(cli, sample_bytes_0_is_exact_in_trace_mode_too)
{
	struct config cfg;

	assert_run(ARGV("--sample-bytes", "0", "-p", "1"), &cfg);
	cr_assert_eq(cfg.sample_bytes, 0);
}

Test(cli, agent_comm_alone_traces_every_process_of_that_name)
{
	struct config cfg;

	assert_run(ARGV("agent", "--comm", "redis-server", "--listen", "unix:/run/lt.sock"), &cfg);
	cr_assert(cfg.all);
	cr_assert_str_eq(cfg.comm, "redis-server");
	cr_assert_str_eq(cfg.agent.listen, "unix:/run/lt.sock");
}

Test(cli, agent_cgroup_and_unit_are_targets)
{
	struct config cfg;

	assert_run(ARGV("agent", "--cgroup", "system.slice/x.service"), &cfg);
	cr_assert_str_eq(cfg.agent.cgroup, "system.slice/x.service");
	assert_run(ARGV("agent", "--unit", "nginx", "--listen", "[::1]:0"), &cfg);
	cr_assert_str_eq(cfg.agent.unit, "nginx");
}

Test(cli, agent_errors_are_one_line_each)
{
	assert_error_is(ARGV("agent"),
			"leaktrace: nothing to trace: give -p PID, --comm NAME, --cgroup PATH, "
			"--unit UNIT or -a (see leaktrace agent --help)\n");
	assert_error_is(ARGV("--listen", "127.0.0.1:1", "-p", "1"),
			"leaktrace: --listen is an option of leaktrace agent\n");
	assert_error_is(
		ARGV("agent", "--listen", "9464", "-p", "1"),
		"leaktrace: --listen '9464' is not ADDR:PORT (like 127.0.0.1:9464, [::1]:9464) or "
		"unix:/PATH\n");
	assert_error_is(
		ARGV("agent", "--listen", "127.0.0.1:70000", "-p", "1"),
		"leaktrace: --listen '127.0.0.1:70000' is not ADDR:PORT (like 127.0.0.1:9464, "
		"[::1]:9464) or unix:/PATH\n");
	assert_error_is(ARGV("agent", "-n", "101", "-p", "1"),
			"leaktrace: -n: at most 100 stacks in leaktrace agent (a series each)\n");
	assert_error_is(
		ARGV("agent", "--unit", "a/b"),
		"leaktrace: --unit: 'a/b' is not a unit name (like nginx or nginx.service)\n");
	assert_error_is(
		ARGV("agent", "-p", "1", "--", "ls"),
		"leaktrace: leaktrace agent traces running processes: give -p, --comm, --cgroup, "
		"--unit or -a, not a command\n");
	assert_error_is(ARGV("agent", "--history", "0", "-p", "1"),
			"leaktrace: --history: '0' is not a whole number from 1 to 1000000\n");
}

Test(cli, agent_help_names_every_endpoint)
{
	struct output o;
	struct config cfg;

	cr_assert_eq(parse(ARGV("agent", "--help"), &cfg, &o), CLI_EXIT_OK);
	for (const char *p =
		     "/metrics\0/debug/pprof/heap\0/snapshot.json\0/history.ndjson\0"
		     "/flamegraph.svg\0--listen\0--history N\0--state-dir DIR\0--cgroup PATH\0"
		     "--unit UNIT\0";
	     *p; p += strlen(p) + 1)
		cr_assert_not_null(strstr(o.out, p), "agent --help does not name %s", p);
}

Test(cli, kernel_alone_or_beside_pids_or_all)
{
	struct config cfg;

	assert_run(ARGV("--kernel"), &cfg);
	cr_assert(cfg.kernel);
	cr_assert_eq(cfg.nr_pids, 0);
	cr_assert_not(cfg.all);
	assert_run(ARGV("--kernel", "-p", "4242"), &cfg);
	cr_assert(cfg.kernel);
	cr_assert_eq(cfg.nr_pids, 1);
	assert_run(ARGV("-a", "--kernel"), &cfg);
	cr_assert(cfg.kernel && cfg.all);
	assert_run(ARGV("-p", "4242"), &cfg);
	cr_assert_not(cfg.kernel);
}

Test(cli, kernel_with_a_command_is_an_error)
{
	assert_error_is(
		ARGV("--kernel", "--", "ls"),
		"leaktrace: --kernel traces alone or beside -p or -a, not with -- COMMAND\n");
}
