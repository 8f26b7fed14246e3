//go:build !linux

package sipsvc

// msgTrunc is 0: the truncation flag is read on Linux only (a truncated datagram then fails
// the framing check or sipgo's parse).
const msgTrunc = 0
