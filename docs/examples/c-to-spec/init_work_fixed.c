// SPDX-License-Identifier: GPL-2.0
/* the fix: the work item's function is set statically, so exit may flush it at any time */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>

struct demo_defer {
	struct platform_device *pdev;
	struct work_struct work;
};

static void demo_defer_fn(struct work_struct *w)
{
	wait_for_device_probe();
}

static struct demo_defer demo_defer = {
	.work = __WORK_INITIALIZER(demo_defer.work, demo_defer_fn),
};

static int demo_probe(struct platform_device *pdev)
{
	if (work_pending(&demo_defer.work))
		return -EBUSY;
	if (!demo_defer.pdev) {
		demo_defer.pdev = pdev;
	}
	queue_work(system_long_wq, &demo_defer.work);
	return 0;
}

static struct platform_driver demo_driver = {
	.probe = demo_probe,
	.driver = {
		.name = "demo",
	},
};

static int __init demo_init(void)
{
	return platform_driver_register(&demo_driver);
}

static void __exit demo_exit(void)
{
	flush_work(&demo_defer.work);
	platform_driver_unregister(&demo_driver);
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_LICENSE("GPL");
