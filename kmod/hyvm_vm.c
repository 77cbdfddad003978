// SPDX-License-Identifier: GPL-2.0
/*
 * The VM fd: guest RAM slots and vCPU creation. Guest RAM is the caller's
 * memory, pinned (FOLL_LONGTERM) for the VM's life, so a munmap by the
 * process leaves the guest's pages alive until the VM is closed.
 */
#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "hyvm.h"

static atomic_t nr_vms = ATOMIC_INIT(0);

static void hyvm_vm_release_ref(struct kref *ref)
{
	struct hyvm_vm *vm = container_of(ref, struct hyvm_vm, ref);
	unsigned int i;

	hyvm_backend->vm_free(vm);
	for (i = 0; i < vm->nr_slots; i++) {
		if (vm->slot[i].readonly)
			unpin_user_pages(vm->slot[i].pages, vm->slot[i].nr_pages);
		else
			unpin_user_pages_dirty_lock(vm->slot[i].pages, vm->slot[i].nr_pages,
						    true);
		kvfree(vm->slot[i].pages);
	}
	kfree(vm);
	atomic_dec(&nr_vms);
}

void hyvm_vm_put(struct hyvm_vm *vm)
{
	kref_put(&vm->ref, hyvm_vm_release_ref);
}

/* The pinned page backing gpa, or NULL outside every slot; *readonly
 * (if asked) says whether its slot is HYVM_MEM_READONLY. Slots never
 * change once added, and are only added under vm->lock. */
struct page *hyvm_gpa_to_page(struct hyvm_vm *vm, u64 gpa, bool *readonly)
{
	unsigned int i, n = READ_ONCE(vm->nr_slots);

	smp_rmb();	/* pairs with smp_wmb() in hyvm_map_ram */
	for (i = 0; i < n; i++) {
		struct hyvm_slot *s = &vm->slot[i];

		if (gpa >= s->gpa && gpa - s->gpa < s->size) {
			if (readonly)
				*readonly = s->readonly;
			return s->pages[(gpa - s->gpa) >> PAGE_SHIFT];
		}
	}
	return NULL;
}

/* gpa lies in a HYVM_MEM_READONLY slot: a write fault there is the
 * guest writing ROM, to hand to user space as MMIO. */
bool hyvm_gpa_is_rom(struct hyvm_vm *vm, u64 gpa)
{
	bool ro = false;

	return hyvm_gpa_to_page(vm, gpa, &ro) && ro;
}

static int hyvm_map_ram(struct hyvm_vm *vm, const struct hyvm_ram_map __user *uarg)
{
	struct hyvm_ram_map m;
	struct hyvm_slot *s;
	struct page **pages;
	unsigned long nr, done = 0;
	unsigned int i;
	bool ro;
	int ret;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if ((m.flags & ~HYVM_MEM_FLAGS) || m.pad || !m.size ||
	    !PAGE_ALIGNED(m.user_addr) || !PAGE_ALIGNED(m.gpa) || !PAGE_ALIGNED(m.size) ||
	    m.gpa >= HYVM_MAX_GPA || m.size > HYVM_MAX_GPA - m.gpa ||
	    m.user_addr + m.size < m.user_addr ||
	    !access_ok((void __user *)(unsigned long)m.user_addr, m.size))
		return -EINVAL;

	ro = m.flags & HYVM_MEM_READONLY;
	nr = m.size >> PAGE_SHIFT;
	/* More than the host's RAM can never be pinned, and the page array
	 * is sized before the range is known to be mapped: up to 64 GiB of
	 * guest-physical space asked for a 128 MiB array, and hyvm_fuzz's
	 * threads doing that at once ran a 512 MiB emulated host out of
	 * memory (Bochs, make test-kmod-vmx-fuzz). */
	if (nr > totalram_pages())
		return -ENOMEM;
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;

	mutex_lock(&vm->lock);
	ret = -ENOSPC;
	if (vm->nr_slots == HYVM_MAX_RAM_SLOTS)
		goto out_unlock;
	ret = -EEXIST;
	for (i = 0; i < vm->nr_slots; i++)
		if (m.gpa < vm->slot[i].gpa + vm->slot[i].size &&
		    vm->slot[i].gpa < m.gpa + m.size)
			goto out_unlock;

	while (done < nr) {
		ret = pin_user_pages_fast(m.user_addr + (done << PAGE_SHIFT),
					  min(nr - done, 1UL << 16),
					  FOLL_LONGTERM | (ro ? 0 : FOLL_WRITE),
					  pages + done);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto out_unpin;
		}
		done += ret;
	}

	s = &vm->slot[vm->nr_slots];
	s->gpa = m.gpa;
	s->size = m.size;
	s->nr_pages = nr;
	s->pages = pages;
	s->readonly = ro;
	smp_wmb();	/* slot contents before the count that publishes it */
	WRITE_ONCE(vm->nr_slots, vm->nr_slots + 1);
	mutex_unlock(&vm->lock);
	return 0;

out_unpin:
	if (done)
		unpin_user_pages(pages, done);
out_unlock:
	mutex_unlock(&vm->lock);
	kvfree(pages);
	return ret;
}

static long hyvm_vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hyvm_vm *vm = file->private_data;

	switch (cmd) {
	case HYVM_MAP_RAM:
		return hyvm_map_ram(vm, (const struct hyvm_ram_map __user *)arg);
	case HYVM_CREATE_VCPU:
		return hyvm_create_vcpu(vm, arg);
	default:
		return -ENOTTY;
	}
}

static int hyvm_vm_release(struct inode *inode, struct file *file)
{
	hyvm_vm_put(file->private_data);
	return 0;
}

static const struct file_operations hyvm_vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hyvm_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = hyvm_vm_release,
	.llseek = noop_llseek,
};

long hyvm_create_vm(void)
{
	struct hyvm_vm *vm;
	int fd, ret;

	if (atomic_inc_return(&nr_vms) > HYVM_MAX_VMS) {
		atomic_dec(&nr_vms);
		return -ENOSPC;
	}
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm) {
		atomic_dec(&nr_vms);
		return -ENOMEM;
	}
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	ret = hyvm_backend->vm_init(vm);
	if (ret) {
		kfree(vm);
		atomic_dec(&nr_vms);
		return ret;
	}
	fd = anon_inode_getfd("hyvm-vm", &hyvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		hyvm_vm_put(vm);
	return fd;
}
