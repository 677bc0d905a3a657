// SPDX-License-Identifier: GPL-2.0
/* two-file driver, part 2: a driver whose registration waits for the core's work */
#include <linux/module.h>
#include <linux/platform_device.h>

void demo_core_flush(void);

static int demo_drv_probe(struct platform_device *pdev)
{
	return 0;
}

static struct platform_driver demo_drv_driver = {
	.probe = demo_drv_probe,
	.driver = {
		.name = "demo_drv",
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
	},
};

static int __init demo_drv_init(void)
{
	demo_core_flush();
	return platform_driver_register(&demo_drv_driver);
}

static void __exit demo_drv_exit(void)
{
	platform_driver_unregister(&demo_drv_driver);
}

module_init(demo_drv_init);
module_exit(demo_drv_exit);
MODULE_SOFTDEP("pre: twofile_core");
MODULE_LICENSE("GPL");
