// Package rxstamp reads the kernel's receive timestamp of a UDP datagram (SO_TIMESTAMPNS,
// Linux): Enable turns it on for a socket, Parse finds it in a read's control messages
// without allocating, Space is the control buffer a read needs. Off Linux there are no
// stamps (Space 0, Parse false) and callers use the time the read returned. The SIP socket's
// overload check (sipsvc) and the app package's e2e tests, which time when the sidecar's
// packets arrived rather than when a starved test goroutine read them, share it.
package rxstamp
