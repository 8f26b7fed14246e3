// Package sidecartest holds tests of sidecar's patches to sipgo that need only its
// exported API (the root package's own tests need testdata this copy leaves out).
package sidecartest

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/fakes"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// sidecar patch: WriteResponseNoWait sends the 2xx and returns without waiting for the ACK,
// the dialog Established (so a later Terminate of the INVITE transaction does not end it),
// and the ACK still confirms it. Without the patch this file does not compile.
func TestDialogServerWriteResponseNoWait(t *testing.T) {
	ua, _ := sipgo.NewUA()
	defer ua.Close()
	cli, _ := sipgo.NewClient(ua)
	dialogSrv := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{User: "test", Host: "127.0.0.200", Port: 5099}})

	msg, err := sip.ParseMessage([]byte("INVITE sip:uas@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK.nowait\r\n" +
		"From: <sip:alice@127.0.0.1:5090>;tag=a1\r\n" +
		"To: <sip:uas@127.0.0.1>\r\n" +
		"Call-ID: nowait-1\r\n" +
		"CSeq: 10 INVITE\r\n" +
		"Content-Length: 0\r\n\r\n"))
	require.NoError(t, err)
	invite := msg.(*sip.Request)
	invite.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Host: "uas", Port: 1234}})
	wire := bytes.NewBuffer(nil)
	conn := &sip.UDPConnection{PacketConn: &fakes.UDPConn{Writers: map[string]io.Writer{"127.0.0.1:5090": wire}}}
	tx := sip.NewServerTx("test", invite, conn, slog.Default())
	require.NoError(t, tx.Init())
	d, err := dialogSrv.ReadInvite(invite, tx)
	require.NoError(t, err)

	require.Error(t, d.WriteResponseNoWait(sip.NewResponseFromRequest(d.InviteRequest, 486, "Busy Here", nil)))

	res := sip.NewResponseFromRequest(d.InviteRequest, sip.StatusOK, "OK", nil)
	require.NoError(t, d.WriteResponseNoWait(res)) // returns: no ACK awaited
	require.Equal(t, sip.DialogStateEstablished, d.LoadState())
	require.True(t, strings.HasPrefix(wire.String(), "SIP/2.0 200 OK"), wire.String())
	require.NotNil(t, res.Contact(), "Contact added")

	tx.Terminate()
	require.NoError(t, d.Context().Err(), "terminating the INVITE transaction after the 2xx ends no dialog")

	ack := sip.NewRequest(sip.ACK, invite.Recipient)
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.ACK})
	require.NoError(t, d.ReadAck(ack, nil))
	require.Equal(t, sip.DialogStateConfirmed, d.LoadState())
}

// endedTx wraps a transaction as a TU may (sidecar's tryingTx), with Ended, and counts Done.
type endedTx struct {
	*sip.ServerTx
	dones int
}

func (e *endedTx) Done() <-chan struct{} {
	e.dones++
	return e.ServerTx.Done()
}

// sidecar patch: WriteResponseNoWait asks a wrapped transaction that has Ended, not Done
// (which makes the transaction's channel); fails without the change (Done called).
func TestDialogServerWriteResponseNoWaitUsesEnded(t *testing.T) {
	ua, _ := sipgo.NewUA()
	defer ua.Close()
	cli, _ := sipgo.NewClient(ua)
	dialogSrv := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{User: "test", Host: "127.0.0.200", Port: 5099}})
	msg, err := sip.ParseMessage([]byte("INVITE sip:uas@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK.ended\r\n" +
		"From: <sip:alice@127.0.0.1:5090>;tag=a1\r\n" +
		"To: <sip:uas@127.0.0.1>\r\n" +
		"Call-ID: ended-1\r\n" +
		"CSeq: 10 INVITE\r\n" +
		"Content-Length: 0\r\n\r\n"))
	require.NoError(t, err)
	invite := msg.(*sip.Request)
	invite.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Host: "uas", Port: 1234}})
	conn := &sip.UDPConnection{PacketConn: &fakes.UDPConn{Writers: map[string]io.Writer{"127.0.0.1:5090": io.Discard}}}
	inner := sip.NewServerTx("ended", invite, conn, slog.Default())
	require.NoError(t, inner.Init())
	tx := &endedTx{ServerTx: inner}
	d, err := dialogSrv.ReadInvite(invite, tx)
	require.NoError(t, err)
	require.NoError(t, d.WriteResponseNoWait(sip.NewResponseFromRequest(d.InviteRequest, sip.StatusOK, "OK", nil)))
	require.Zero(t, tx.dones, "Done called: its channel made")
	inner.Terminate()
	// Ended after the end: the 2xx is refused with the transaction's error.
	require.Error(t, d.WriteResponseNoWait(sip.NewResponseFromRequest(d.InviteRequest, sip.StatusOK, "OK", nil)))
}
