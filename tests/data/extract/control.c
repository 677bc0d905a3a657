// SPDX-License-Identifier: GPL-2.0
/* control flow: if/else chains, loops, switch, goto unwinding, calls not modelled, callbacks */
#include <linux/module.h>
#include <linux/platform_device.h>

static bool demo_a, demo_b;

static int demo_one(struct resource *res, void *data)
{
	demo_a = true;
	return 0;
}

static int demo_setup(int mode)
{
	int i, rc;

	if (demo_a && !demo_b)
		demo_b = true;
	else if (mode > 2)
		demo_a = false;
	else
		pr_info("nothing\n");

	for (i = 0; i < 4; i++) {
		if (i == mode)
			break;
		demo_b = !demo_b;
	}
	while (mode--)
		cpu_relax();

	switch (mode) {
	case 0:
		demo_a = true;
		break;
	case 1:
		demo_b = true;
		break;
	default:
		break;
	}

	rc = walk_iomem_res_desc(0, 0, 0, -1, NULL, demo_one);
	if (rc)
		goto err;
	return 0;
err:
	demo_a = false;
	return rc;
}

static int __init demo_init(void)
{
	int rc = demo_setup(1);

	if (rc)
		return rc;
	return 0;
}

module_init(demo_init);
MODULE_LICENSE("GPL");
