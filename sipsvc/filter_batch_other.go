//go:build !(linux && (amd64 || arm64))

package sipsvc

import "net"

// batchSys is empty here: without recvmmsg and sendmmsg (64-bit Linux only) the filter reads
// one datagram per read and writes its answers one by one.
type batchSys struct{}

func newBatchSys(*net.UDPConn, []rxSlot) *batchSys { return nil }

// read reads one datagram into the first slot.
func (r *rxBatch) read(c *net.UDPConn) (int, error) { return readOne(c, &r.slots[0]) }

// write sends the queued answers one by one.
func (r *rxBatch) write(c *trustPacketConn) { writeEach(c, r.replies) }
