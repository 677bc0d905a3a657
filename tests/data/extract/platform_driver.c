// SPDX-License-Identifier: GPL-2.0
/* a platform driver: .probe, .remove, .driver.probe_type, -EPROBE_DEFER */
#include <linux/module.h>
#include <linux/platform_device.h>

static bool supplier_ready;

static int demo_probe(struct platform_device *pdev)
{
	if (!supplier_ready)
		return -EPROBE_DEFER;
	return 0;
}

static void demo_remove(struct platform_device *pdev)
{
	supplier_ready = false;
}

static struct platform_driver demo_driver = {
	.probe = demo_probe,
	.remove = demo_remove,
	.driver = {
		.name = "demo",
		.probe_type = PROBE_PREFER_ASYNCHRONOUS,
	},
};
module_platform_driver(demo_driver);
MODULE_LICENSE("GPL");
