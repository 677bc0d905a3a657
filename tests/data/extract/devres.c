// SPDX-License-Identifier: GPL-2.0
/* devres actions registered by a probe, run when it fails or on unbind */
#include <linux/module.h>
#include <linux/platform_device.h>

static bool demo_undone;

static void demo_release(void *data)
{
	demo_undone = true;
}

static int demo_probe(struct platform_device *pdev)
{
	int rc;

	rc = devm_add_action_or_reset(&pdev->dev, demo_release, NULL);
	if (rc)
		return rc;
	return -ENXIO;
}

static struct platform_driver demo_driver = {
	.probe = demo_probe,
	.driver = {
		.name = "demo",
	},
};
module_platform_driver(demo_driver);
MODULE_LICENSE("GPL");
