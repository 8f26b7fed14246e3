package sipsvc

import "syscall"

// msgTrunc is the read flag of a datagram larger than the buffer it was read into.
const msgTrunc = syscall.MSG_TRUNC
