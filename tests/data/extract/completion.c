// SPDX-License-Identifier: GPL-2.0
/* completions and a wait queue */
#include <linux/module.h>
#include <linux/completion.h>
#include <linux/wait.h>

static DECLARE_COMPLETION(demo_done);
static DECLARE_WAIT_QUEUE_HEAD(demo_wq_head);
static bool demo_flag;

static void demo_worker(struct work_struct *work)
{
	demo_flag = true;
	wake_up(&demo_wq_head);
	complete(&demo_done);
}

static DECLARE_WORK(demo_work, demo_worker);

static int __init demo_init(void)
{
	reinit_completion(&demo_done);
	schedule_work(&demo_work);
	wait_for_completion(&demo_done);
	wait_event(demo_wq_head, demo_flag);
	return 0;
}

module_init(demo_init);
MODULE_LICENSE("GPL");
