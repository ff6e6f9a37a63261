#!/bin/busybox sh
# /init of the guest initramfs. Runs the checks named by uvfio.check= on the
# kernel command line, prints "CHECK <name> PASS|FAIL <detail>" lines and
# GUEST-DONE, then powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
echo "GUEST-START $(uname -r) uptime $(cut -d" " -f1 /proc/uptime)"

# Insert the modules of one group, dependencies first (list made by mkinitramfs.sh).
# Returns non-zero if one of them is not loaded afterwards.
load() {
	rc=0
	for m in $(cat /lib/modules/$1.list); do
		insmod /lib/modules/$m.ko 2>/dev/null || grep -q "^${m//-/_} " /proc/modules ||
			{ echo "CHECK insmod-$m FAIL insmod /lib/modules/$m.ko failed"; rc=1; }
	done
	return $rc
}

check=$(sed -n 's/.*uvfio\.check=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)
case "$check" in
lspci)
	n=0; list=""
	for d in /sys/bus/pci/devices/*; do
		n=$((n + 1))
		list="$list $(cat $d/vendor | cut -c3-):$(cat $d/device | cut -c3-)"
	done
	if [ $n -gt 0 ]; then r=PASS; else r=FAIL; fi
	echo "CHECK lspci $r $n PCI devices:$list"
	;;
edu | edu-qemu)
	load edu
	if [ "$check" = edu-qemu ]; then /bin/edu --no-bar-buffer; else /bin/edu; fi
	;;
gpio)
	if load gpio; then
		echo "CHECK gpio-modules PASS inserted $(tr '\n' ' ' </lib/modules/gpio.list)"
		/bin/gpio
	fi
	;;
*)
	echo "CHECK init FAIL unknown uvfio.check='$check'"
	;;
esac
echo GUEST-DONE
poweroff -f
