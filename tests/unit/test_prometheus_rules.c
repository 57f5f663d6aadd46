// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* deploy/prometheus's alerting rules, checked and unit-tested by promtool (Debian's prometheus). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static void promtool(const char *args)
{
	char cmd[256];

	if (system("command -v promtool >/dev/null"))
		cr_skip_test("no promtool (apt-get install prometheus)");
	snprintf(cmd, sizeof(cmd), "promtool %s >/dev/null", args);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

Test(prometheus_rules, promtool_check_rules_passes)
{
	promtool("check rules deploy/prometheus/leaktrace-rules.yml");
}

Test(prometheus_rules, growing_stack_and_lost_bytes_fire_with_function_and_module)
{
	promtool("test rules deploy/prometheus/leaktrace-rules.test.yml");
}
