// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm.ko: /dev/hyvm. Answers the capability ioctls and hands out VM fds;
 * the vendor backend (svm/ or vmx/) is chosen once, at load time.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include "hyvm.h"

static struct hyvm_capabilities hyvm_caps;
const struct hyvm_backend *hyvm_backend;

static bool npt = true;
module_param(npt, bool, 0444);
MODULE_PARM_DESC(npt, "Use nested paging (NPT/EPT); without it the module refuses to run guests");

static long hyvm_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case HYVM_GET_API_VERSION:
		return HYVM_API_VERSION;
	case HYVM_GET_CAPABILITIES:
		if (copy_to_user((void __user *)arg, &hyvm_caps, sizeof(hyvm_caps)))
			return -EFAULT;
		return 0;
	case HYVM_CREATE_VM:
		if (arg)
			return -EINVAL;
		if (!hyvm_backend)
			return -ENODEV;
		return hyvm_create_vm();
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hyvm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hyvm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hyvm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hyvm",
	.fops = &hyvm_dev_fops,
	.mode = 0660,
};

static int __init hyvm_init(void)
{
	int ret;

	hyvm_detect_caps(&hyvm_caps);
	if (!npt && (hyvm_caps.flags & HYVM_CAP_NESTED_PAGING)) {
		hyvm_caps.flags &= ~(HYVM_CAP_NESTED_PAGING | HYVM_CAP_UNRESTRICTED);
		strscpy(hyvm_caps.missing, "nested paging turned off (npt=0); shadow paging is not implemented",
			sizeof(hyvm_caps.missing));
	}
	if ((hyvm_caps.flags & HYVM_CAP_SVM) &&
	    (hyvm_caps.flags & HYVM_CAP_NESTED_PAGING))
		hyvm_backend = hyvm_svm_init(&hyvm_caps);
	else if ((hyvm_caps.flags & HYVM_CAP_VMX) &&
		 (hyvm_caps.flags & HYVM_CAP_NESTED_PAGING))
		hyvm_backend = hyvm_vmx_init(&hyvm_caps);
	if (hyvm_backend) {
		hyvm_caps.flags |= HYVM_CAP_RUNNABLE;
		hyvm_caps.guest_modes = HYVM_MODE_PROT |
			HYVM_MODE_PAGED | HYVM_MODE_PAE | HYVM_MODE_LONG;
		if (hyvm_caps.flags & HYVM_CAP_UNRESTRICTED)
			hyvm_caps.guest_modes |= HYVM_MODE_REAL;
	} else if (!hyvm_caps.missing[0]) {
		strscpy(hyvm_caps.missing, "no backend for this CPU in this build",
			sizeof(hyvm_caps.missing));
	}

	ret = misc_register(&hyvm_misc);
	if (ret) {
		if (hyvm_backend && hyvm_backend->exit)
			hyvm_backend->exit();
		return ret;
	}
	pr_info("hyvm: /dev/hyvm api %d, backend %s%s%s\n", HYVM_API_VERSION,
		hyvm_backend ? hyvm_backend->name : "none",
		hyvm_caps.missing[0] ? "; missing: " : "", hyvm_caps.missing);
	return 0;
}

/* VM and vCPU fds hold a module reference (fops.owner), so no VM is
 * alive when this runs. */
static void __exit hyvm_exit(void)
{
	misc_deregister(&hyvm_misc);
	if (hyvm_backend && hyvm_backend->exit)
		hyvm_backend->exit();
}

module_init(hyvm_init);
module_exit(hyvm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hyvm: a thin hardware-assisted hypervisor core");
