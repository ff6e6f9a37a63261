#!/bin/busybox sh
# /init of the kguest initramfs: load the VFIO modules (if the kernel has them
# as modules), bind QEMU's edu to vfio-pci, run the probe, edu-driver and the
# kernel backend's self-test against it, print "CHECK name PASS|FAIL detail"
# lines and GUEST-DONE, power off.  Kernel command line:
#   kguest.mode=legacy|cdev|noiommu   how the programs reach the device
#   kguest.mode=sriov                  only run kguest-sriov (tests/kguest/sriov.py)
#   MODULE.param=value                 passed to insmod of MODULE, as modprobe would
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
echo "GUEST-START $(uname -r) uptime $(cut -d' ' -f1 /proc/uptime)"
mode=$(sed -n 's/.*kguest\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)

# Modules (6.1, sid): dependencies first, as listed by kernel-deb61.sh or
# kernel-sid.sh; their parameters from the kernel command line. Our kernels
# (6.12, 7.2) have none: built-in code takes MODULE.param=value from the
# kernel command line itself.
if [ -f /lib/modules/modules.order ]; then
	rc=PASS loaded=""
	for m in $(cat /lib/modules/modules.order); do
		args=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^${m%.ko}\.//p" | tr '\n' ' ')
		args=$(echo $args)
		if insmod /lib/modules/$m $args; then loaded="$loaded ${m%.ko}${args:+ ($args)}"; else rc=FAIL; fi
	done
	echo "CHECK modules $rc insmod$loaded"
elif [ "$mode" = sriov ]; then
	# Built in (our kernels): the kernel took vfio_pci.enable_sriov=1 itself.
	p=$(cat /sys/module/vfio_pci/parameters/enable_sriov 2>/dev/null)
	if [ "$p" = Y ]; then rc=PASS; else rc=FAIL; fi
	echo "CHECK modules $rc built in (no modules); vfio_pci enable_sriov=${p:-missing}"
fi

# SR-IOV: kguest-sriov binds the devices itself (it must order the token,
# the VF enable and the opens); the kernel's own words about VF tokens follow.
if [ "$mode" = sriov ]; then
	uvfio=""
	[ -x /bin/uvfio ] && uvfio="--uvfio /bin/uvfio"
	# A task stuck in the kernel (a VF removal waiting for an fd that is
	# never closed) cannot be killed: watch it instead of waiting on it.
	/bin/kguest-sriov $uvfio &
	pid=$! n=0
	while [ -d /proc/$pid ] && [ "$(cut -d' ' -f3 /proc/$pid/stat)" != Z ] && [ $n -lt 300 ]; do
		sleep 0.2; n=$((n + 1))
	done
	if [ $n -lt 300 ]; then
		wait $pid; rc=$?
		if [ $rc = 0 ]; then r=PASS; else r=FAIL; fi
		echo "CHECK kguest-sriov $r exit $rc"
	else
		echo "CHECK kguest-sriov FAIL still running after 60 s"
		for t in /proc/[0-9]*; do  # user tasks: state, wait channel, kernel stack
			[ -n "$(tr -d "\\000" <$t/cmdline 2>/dev/null)" ] || continue
			echo "STUCK| ${t#/proc/} $(cat $t/comm) $(cut -d' ' -f3 $t/stat) $(cat $t/wchan): $(tr '\n' ' ' <$t/stack 2>/dev/null)"
		done
	fi
	dmesg | grep -i -e "vf token" -e "sr-iov" -e "in use" -e "release" | sed 's/^/KMSG| /'
	echo GUEST-DONE
	poweroff -f
fi

# Find edu (1234:11e8) and bind it to vfio-pci. A second edu that shares its
# IOMMU group with a device another driver holds (behind a PCI bridge, run
# 612-nonviable) is the selftest's --nonviable location.
echo "1234 11e8" >/sys/bus/pci/drivers/vfio-pci/new_id
bdf="" nv=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = "0x1234:0x11e8" ] || continue
	if [ "$(ls $d/iommu_group/devices 2>/dev/null | wc -l)" -gt 1 ]; then
		nv=${d##*/}
		echo "CHECK nonviable-setup PASS $nv shares iommu_group $(readlink $d/iommu_group | sed 's|.*/||') with: $(for o in $d/iommu_group/devices/*; do echo "${o##*/}($(readlink $o/driver | sed 's|.*/||'))"; done | tr '\n' ' ')"
	else
		bdf=${d##*/}
	fi
done
if [ -z "$bdf" ]; then
	echo "CHECK bind FAIL no edu (1234:11e8) in a group of its own on the PCI bus"
else
	drv=$(readlink /sys/bus/pci/devices/$bdf/driver)
	grp=$(readlink /sys/bus/pci/devices/$bdf/iommu_group)
	cdev=$(ls /sys/bus/pci/devices/$bdf/vfio-dev 2>/dev/null | head -1)
	if [ "${drv##*/}" = vfio-pci ]; then r=PASS; else r=FAIL; fi
	echo "CHECK bind $r $bdf driver ${drv##*/}, iommu_group ${grp##*/}, cdev ${cdev:-none}, /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
fi

case "$mode" in
cdev) locs="/dev/vfio/devices/$cdev pci:$bdf" ;;
noiommu) locs="pci:$bdf" ;;
*) locs="pci:$bdf /dev/vfio/${grp##*/}:$bdf" ;;
esac

if [ -n "$bdf" ]; then
	/bin/kguest-probe $mode $bdf
	for loc in $locs; do
		if [ -x /bin/edu-driver ]; then
			echo "EDU-BEGIN $loc"
			timeout 60 /bin/edu-driver $loc >/tmp/out 2>/tmp/err; rc=$?
			sed 's/^/EDU| /' /tmp/out
			sed 's/^/EDU-STDERR| /' /tmp/err
			if [ $rc = 0 ]; then r=PASS; else r=FAIL; fi
			echo "CHECK edu-driver $r $loc: exit $rc"
		fi
		for t in /bin/selftest*; do
			[ -x "$t" ] || continue
			timeout 60 $t $loc ${nv:+--nonviable pci:$nv} >/tmp/out 2>&1; rc=$?
			sed 's/^/SELFTEST| /' /tmp/out
			if [ $rc = 0 ]; then r=PASS; else r=FAIL; fi
			echo "CHECK ${t##*/} $r $loc: exit $rc"
		done
	done
fi
# The client must refuse a non-viable group, naming why.
[ -x /bin/edu-driver ] && for loc in ${nv:+pci:$nv pci:$nv?iommu=group}; do
	timeout 60 /bin/edu-driver $loc >/tmp/out 2>&1; rc=$?
	sed 's/^/NONVIABLE| /' /tmp/out
	if [ $rc != 0 ] && grep -q -e "not viable" -e "is bound to" /tmp/out; then r=PASS; else r=FAIL; fi
	echo "CHECK edu-driver-nonviable $r $loc: exit $rc"
done
echo GUEST-DONE
poweroff -f
