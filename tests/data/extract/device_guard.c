// SPDX-License-Identifier: GPL-2.0
/* guard(device) and device_lock in a work function that waits for probing first */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>

static struct platform_device *demo_pdev;
static bool demo_seen;

static void demo_scan(struct work_struct *work)
{
	wait_for_device_probe();
	guard(device)(&demo_pdev->dev);
	if (!demo_pdev->dev.driver)
		return;
	demo_seen = true;
}

static DECLARE_WORK(demo_scan_work, demo_scan);

static void demo_poke(void)
{
	device_lock(&demo_pdev->dev);
	demo_seen = false;
	device_unlock(&demo_pdev->dev);
}

static int __init demo_init(void)
{
	queue_work(system_unbound_wq, &demo_scan_work);
	demo_poke();
	return 0;
}

module_init(demo_init);
MODULE_LICENSE("GPL");
