package sidecartest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/fakes"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// sidecar patch: once the dialog is confirmed and its INVITE transaction terminated, Slim
// lets go of the 2xx (its SDP and headers) and of the transaction, and the BYE the dialog
// builds afterwards is the same. Without the patch this file does not compile (Slim), and
// without the transaction's releaseMessages the 2xx stays reachable through it.
func TestDialogServerSlim(t *testing.T) {
	ua, _ := sipgo.NewUA()
	defer ua.Close()
	cli, _ := sipgo.NewClient(ua)
	dialogSrv := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{User: "test", Host: "127.0.0.200", Port: 5099}})

	msg, err := sip.ParseMessage([]byte("INVITE sip:uas@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK.slim\r\n" +
		"Record-Route: <sip:127.0.0.7:5060;lr>\r\n" +
		"From: <sip:alice@127.0.0.1:5090>;tag=a1\r\n" +
		"To: <sip:uas@127.0.0.1>\r\n" +
		"Call-ID: slim-1\r\n" +
		"CSeq: 10 INVITE\r\n" +
		"Contact: <sip:alice@127.0.0.1:5090>\r\n" +
		"Content-Length: 0\r\n\r\n"))
	require.NoError(t, err)
	invite := msg.(*sip.Request)
	invite.SetTransport("UDP")
	invite.SetSource("127.0.0.1:5090")
	wire := bytes.NewBuffer(nil)
	conn := &sip.UDPConnection{PacketConn: &fakes.UDPConn{Writers: map[string]io.Writer{"127.0.0.1:5090": wire}}}
	conn.Ref(1)
	tx := sip.NewServerTx("slim", invite, conn, slog.Default())
	require.NoError(t, tx.Init())
	d, err := dialogSrv.ReadInvite(invite, tx)
	require.NoError(t, err)

	res := sip.NewSDPResponseFromRequest(d.InviteRequest, []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"))
	require.False(t, d.Slim(), "not confirmed yet")
	require.NoError(t, d.WriteResponseNoWait(res))
	ack := sip.NewRequest(sip.ACK, invite.Recipient)
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: 10, MethodName: sip.ACK})
	require.NoError(t, d.ReadAck(ack, nil))
	tx.Terminate()

	wantBye := byeText(t, d)

	resPtr := weak.Make(res)
	res = nil
	require.True(t, d.Slim())
	runtime.GC()
	runtime.GC()
	require.Nil(t, resPtr.Value(), "the 2xx is still reachable after Slim (dialog or transaction)")
	runtime.KeepAlive(tx) // the TU keeps its transaction: it must not keep the 2xx
	require.True(t, d.InviteResponse.IsSuccess())
	require.Equal(t, d.InviteRequest.To(), d.InviteResponse.To())

	require.Equal(t, wantBye, byeText(t, d), "the BYE built after Slim")
}

// byeText builds the dialog's next in-dialog BYE (as Bye does, without sending it) and
// returns it without Via and CSeq, which change per request, with its destination and
// transport.
func byeText(t *testing.T, d *sipgo.DialogServerSession) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // TransactionRequest fails at once; the request is built first
	bye := sip.NewRequest(sip.BYE, d.InviteRequest.Contact().Address)
	_, _ = d.TransactionRequest(ctx, bye)
	var b strings.Builder
	for _, line := range strings.Split(bye.String(), "\r\n") {
		if strings.HasPrefix(line, "Via:") || strings.HasPrefix(line, "CSeq:") {
			continue
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("dst=" + bye.Destination() + " transport=" + bye.Transport())
	return b.String()
}
