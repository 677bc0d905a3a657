// SPDX-License-Identifier: GPL-2.0
/* a platform device created by name, added, and unregistered; its driver matched by name */
#include <linux/module.h>
#include <linux/platform_device.h>

static struct platform_device *demo_pdev;

static int demo_dev_probe(struct platform_device *pdev)
{
	return 0;
}

static struct platform_driver demo_dev_driver = {
	.probe = demo_dev_probe,
	.driver = {
		.name = "demo_dev",
	},
};

static int __init demo_dev_init(void)
{
	struct platform_device *pdev;
	int rc;

	rc = platform_driver_register(&demo_dev_driver);
	if (rc)
		return rc;
	pdev = platform_device_alloc("demo_dev", 0);
	if (!pdev) {
		platform_driver_unregister(&demo_dev_driver);
		return -ENOMEM;
	}
	rc = platform_device_add(pdev);
	if (rc) {
		platform_device_put(pdev);
		platform_driver_unregister(&demo_dev_driver);
		return rc;
	}
	demo_pdev = pdev;
	return 0;
}

static void __exit demo_dev_exit(void)
{
	platform_device_unregister(demo_pdev);
	platform_driver_unregister(&demo_dev_driver);
}

module_init(demo_dev_init);
module_exit(demo_dev_exit);
MODULE_LICENSE("GPL");
