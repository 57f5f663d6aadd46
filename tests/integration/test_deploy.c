// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's always-on configuration as shipped: deploy/prometheus/fleet checked by
 * Prometheus' own promtool (the config, its rules, and the rules' unit tests with exact
 * values), and the Kubernetes DaemonSet by tests/deploy/check_daemonset.py (a schema of
 * apps/v1's fields and the agent's needs: kubectl's client dry run needs a cluster's API).
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define PROMTOOL "/usr/bin/promtool"

/* Runs ARGV; asserts exit 0 and that stdout and stderr together hold WANT. */
static void assert_ok_saying(char *const argv[], const char *want)
{
	struct run_result r;

	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s %s: exit %d\n%s%s", argv[0], argv[1],
		     run__exit_code(&r), r.out, r.err);
	cr_assert(strstr(r.out, want) || strstr(r.err, want), "no '%s' in:\n%s%s", want, r.out,
		  r.err);
	run__free(&r);
}

static void need_promtool(void)
{
	cr_assert_eq(access(PROMTOOL, X_OK), 0,
		     "no promtool: tools/install-deps test installs Debian's prometheus");
}

Test(deploy, prometheus_fleet_config_is_valid)
{
	char conf[PATH_MAX];

	need_promtool();
	env__repo_file(conf, sizeof(conf), "deploy/prometheus/fleet/prometheus.yml");
	assert_ok_saying((char *[]){ PROMTOOL, "check", "config", conf, NULL },
			 "SUCCESS: 6 rules found");
}

Test(deploy, fleet_rules_rank_suspects_across_hosts)
{
	char rules[PATH_MAX], tests[PATH_MAX];

	need_promtool();
	env__repo_file(rules, sizeof(rules), "deploy/prometheus/fleet/fleet-rules.yml");
	assert_ok_saying((char *[]){ PROMTOOL, "check", "rules", rules, NULL },
			 "SUCCESS: 6 rules found");
	/* Three hosts' series: the sums, host counts and ranking with exact values. */
	env__repo_file(tests, sizeof(tests), "deploy/prometheus/fleet/fleet-rules.test.yml");
	assert_ok_saying((char *[]){ PROMTOOL, "test", "rules", tests, NULL }, "SUCCESS");
}

Test(deploy, kubernetes_daemonset_is_valid_for_the_agent)
{
	char check[PATH_MAX], manifest[PATH_MAX], schema[PATH_MAX], scrape[PATH_MAX];

	env__repo_file(check, sizeof(check), "tests/deploy/check_daemonset.py");
	env__repo_file(manifest, sizeof(manifest), "deploy/kubernetes/leaktrace-agent.yaml");
	env__repo_file(schema, sizeof(schema), "tests/deploy/daemonset.schema.json");
	env__repo_file(scrape, sizeof(scrape), "deploy/prometheus/fleet/kubernetes-scrape.yml");
	/* Debian's python3 has python3-yaml and python3-jsonschema (tools/install-deps). */
	assert_ok_saying((char *[]){ "/usr/bin/python3", check, manifest, schema, scrape, NULL },
			 "a valid DaemonSet for the agent");
}

/* The check refuses what a cluster would: a misspelt field, a selector that selects nothing. */
Test(deploy, kubernetes_check_refuses_a_broken_manifest)
{
	char check[PATH_MAX], manifest[PATH_MAX], schema[PATH_MAX], scrape[PATH_MAX];
	char cmd[12 * PATH_MAX];
	struct tmpdir t;
	struct run_result r;

	tmpdir__new(&t);
	env__repo_file(check, sizeof(check), "tests/deploy/check_daemonset.py");
	env__repo_file(manifest, sizeof(manifest), "deploy/kubernetes/leaktrace-agent.yaml");
	env__repo_file(schema, sizeof(schema), "tests/deploy/daemonset.schema.json");
	env__repo_file(scrape, sizeof(scrape), "deploy/prometheus/fleet/kubernetes-scrape.yml");
	snprintf(cmd, sizeof(cmd),
		 "sed -e 's/hostPID: true/hostPid: true/' '%s' > %s/typo.yaml && "
		 "sed -e '/matchLabels:/{n;s/leaktrace-agent/other/}' '%s' > %s/selector.yaml && "
		 "/usr/bin/python3 '%s' %s/typo.yaml '%s' '%s'; "
		 "/usr/bin/python3 '%s' %s/selector.yaml '%s' '%s'",
		 manifest, t.path, manifest, t.path, check, t.path, schema, scrape, check, t.path,
		 schema, scrape);
	run__cmd((char *[]){ "sh", "-c", cmd, NULL }, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 1, "exit %d:\n%s%s", run__exit_code(&r), r.out, r.err);
	cr_assert_not_null(strstr(r.out, "typo.yaml: spec/template/spec: Additional properties "
					 "are not allowed ('hostPid' was unexpected)\n"),
			   "%s", r.out);
	cr_assert_not_null(strstr(r.out, "selector.yaml: selector app.kubernetes.io/name=other "
					 "does not match the pods' labels\n"),
			   "%s", r.out);
	run__free(&r);
	tmpdir__free(&t);
}
