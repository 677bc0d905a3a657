// SPDX-License-Identifier: GPL-2.0
/* register windows: request, map, unmap and release in init/exit; devm requests in probe */
#include <linux/module.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/platform_device.h>

#define DEMO_BASE	0xfe201000
#define DEMO_SIZE	0x1000

static void __iomem *demo_regs;

static int demo_probe(struct platform_device *pdev)
{
	struct resource *res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	void __iomem *base;

	if (!devm_request_mem_region(&pdev->dev, res->start, resource_size(res), "demo"))
		return -EBUSY;
	base = devm_ioremap_resource(&pdev->dev, res);
	if (IS_ERR(base))
		return PTR_ERR(base);
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
	if (!request_mem_region(DEMO_BASE, DEMO_SIZE, "demo"))
		return -EBUSY;
	demo_regs = ioremap(DEMO_BASE, DEMO_SIZE);
	if (!demo_regs) {
		release_mem_region(DEMO_BASE, DEMO_SIZE);
		return -ENOMEM;
	}
	if (!request_region(0x3f8, 8, "demo"))
		pr_info("no port\n");
	return platform_driver_register(&demo_driver);
}

static void __exit demo_exit(void)
{
	platform_driver_unregister(&demo_driver);
	release_region(0x3f8, 8);
	iounmap(demo_regs);
	release_mem_region(DEMO_BASE, DEMO_SIZE);
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_LICENSE("GPL");
