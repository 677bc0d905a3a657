// SPDX-License-Identifier: GPL-2.0
/* mutexes (plain, guard, trylock) and an rw-semaphore */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>

static DEFINE_MUTEX(demo_lock);
static DECLARE_RWSEM(demo_rwsem);
static bool demo_state;

static void demo_update(void)
{
	mutex_lock(&demo_lock);
	demo_state = true;
	mutex_unlock(&demo_lock);
}

static bool demo_read(void)
{
	guard(mutex)(&demo_lock);
	if (!demo_state)
		return false;
	down_read(&demo_rwsem);
	up_read(&demo_rwsem);
	return true;
}

static int __init demo_init(void)
{
	if (mutex_trylock(&demo_lock))
		mutex_unlock(&demo_lock);
	down_write(&demo_rwsem);
	demo_update();
	up_write(&demo_rwsem);
	demo_read();
	return 0;
}

module_init(demo_init);
MODULE_LICENSE("GPL");
