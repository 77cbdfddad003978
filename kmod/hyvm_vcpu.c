// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU fd: run, state, interrupts, CPUID, and the shared struct
 * hyvm_run page (mmap offset 0). Every call is serialized by vcpu->lock,
 * so closing or calling from another thread while HYVM_RUN is in progress
 * is safe: the fd (and the vCPU) live until the last reference drops.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "hyvm.h"

static_assert(sizeof(struct hyvm_run) == HYVM_RUN_SIZE);
static_assert(offsetof(struct hyvm_run, exit_count) == 256);
static_assert(offsetof(struct hyvm_run, io_data) == 3072);

static long hyvm_vcpu_state(struct hyvm_vcpu *vcpu, unsigned int cmd,
			    void __user *uarg)
{
	struct hyvm_cpu_state *st;
	long ret = 0;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	if (cmd == HYVM_GET_STATE) {
		hyvm_backend->get_state(vcpu, st);
		if (copy_to_user(uarg, st, sizeof(*st)))
			ret = -EFAULT;
	} else if (copy_from_user(st, uarg, sizeof(*st))) {
		ret = -EFAULT;
	} else {
		ret = hyvm_backend->set_state(vcpu, st);
	}
	kfree(st);
	return ret;
}

static long hyvm_vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hyvm_vcpu *vcpu = file->private_data;
	long ret;

	if (mutex_lock_killable(&vcpu->lock))
		return -EINTR;
	switch (cmd) {
	case HYVM_RUN:
		ret = arg ? -EINVAL : hyvm_backend->run(vcpu);
		break;
	case HYVM_GET_STATE:
	case HYVM_SET_STATE:
		ret = hyvm_vcpu_state(vcpu, cmd, (void __user *)arg);
		break;
	case HYVM_INJECT_IRQ:
		ret = arg > 255 ? -EINVAL : hyvm_backend->inject_irq(vcpu, arg);
		break;
	case HYVM_SET_CPUID:
		ret = hyvm_set_cpuid(vcpu, (const void __user *)arg);
		break;
	case HYVM_SET_GUEST_DEBUG:
		ret = hyvm_set_guest_debug(vcpu, (const void __user *)arg);
		break;
	case HYVM_SET_IRQ_WINDOW:
		if (arg > 1) {
			ret = -EINVAL;
			break;
		}
		vcpu->irq_window_wanted = arg;
		ret = 0;
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&vcpu->lock);
	return ret;
}

static vm_fault_t hyvm_run_fault(struct vm_fault *vmf)
{
	struct hyvm_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff)
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(vcpu->run);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct hyvm_run_vm_ops = {
	.fault = hyvm_run_fault,
};

/*
 * One page at offset 0. VM_DONTEXPAND keeps the mapping that: without it
 * the core could merge a later mmap of this file at offset 4096 placed
 * right after it into this VMA without asking hyvm_vcpu_mmap (6.1's
 * mmap_region tries vma_merge first, and a VMA whose vm_ops has no close
 * is mergeable), and mremap could grow it; an access past the first page
 * then took SIGBUS from hyvm_run_fault (found by tests/kmod/hyvm_fuzz.c:
 * BUS_ADRERR on a "run page" its mmap at offset 4096 had been given).
 * A VMA with VM_DONTEXPAND differs in its flags from any new mapping, so
 * nothing merges into it.
 */
static int hyvm_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != HYVM_RUN_SIZE)
		return -EINVAL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_DONTEXPAND);
#else
	vma->vm_flags |= VM_DONTEXPAND;
#endif
	vma->vm_ops = &hyvm_run_vm_ops;
	return 0;
}

static void hyvm_vcpu_free(struct hyvm_vcpu *vcpu)
{
	hyvm_backend->vcpu_free(vcpu);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu->cpuid);
	kfree(vcpu);
}

static int hyvm_vcpu_release(struct inode *inode, struct file *file)
{
	struct hyvm_vcpu *vcpu = file->private_data;
	struct hyvm_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	vm->vcpu[vcpu->index] = NULL;
	mutex_unlock(&vm->lock);
	hyvm_vcpu_free(vcpu);
	hyvm_vm_put(vm);
	return 0;
}

static const struct file_operations hyvm_vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hyvm_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = hyvm_vcpu_mmap,
	.release = hyvm_vcpu_release,
	.llseek = noop_llseek,
};

long hyvm_create_vcpu(struct hyvm_vm *vm, unsigned long index)
{
	struct hyvm_vcpu *vcpu;
	int ret, fd;

	if (index >= HYVM_MAX_VCPUS)
		return -EINVAL;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (struct hyvm_run *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run) {
		kfree(vcpu);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->index = index;
	mutex_init(&vcpu->lock);
	hyvm_msrs_reset(vcpu);

	mutex_lock(&vm->lock);
	ret = -EEXIST;
	if (vm->vcpu[index])
		goto fail;
	ret = hyvm_backend->vcpu_init(vcpu);
	if (ret)
		goto fail;
	kref_get(&vm->ref);
	fd = anon_inode_getfd("hyvm-vcpu", &hyvm_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		mutex_unlock(&vm->lock);
		hyvm_vcpu_free(vcpu);
		hyvm_vm_put(vm);
		return fd;
	}
	vm->vcpu[index] = vcpu;
	mutex_unlock(&vm->lock);
	return fd;

fail:
	mutex_unlock(&vm->lock);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	return ret;
}
