//go:build linux

package rxstamp

import (
	"encoding/binary"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// Space is the control buffer a read needs for one SCM_TIMESTAMPNS message.
const Space = 64

// Enable asks the kernel to stamp each datagram c receives with its arrival time
// (SO_TIMESTAMPNS); without it (an error) reads carry no stamp and the read time is used.
func Enable(c *net.UDPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
}

// Parse returns the receive timestamp in the control messages oob, read without
// allocating; false when there is none (or on a 32-bit system, whose timespec differs).
func Parse(oob []byte) (time.Time, bool) {
	const hdr = syscall.SizeofCmsghdr
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return time.Time{}, false
	}
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < hdr || l > len(oob) {
			return time.Time{}, false
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SCM_TIMESTAMPNS && l >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr : hdr+8]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8 : hdr+16]))
			return time.Unix(sec, nsec), true
		}
		next := (l + 7) &^ 7
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return time.Time{}, false
}
