// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `leaktrace report` alone: linked from the offline path's objects without the tracer, the
 * live source, the BPF skeleton or libbpf (make check-layers), so that it cannot need them.
 */
#include "cmd_report.h"

int main(int argc, char **argv)
{
	return cmd_report(argc, argv);
}
