// Package e2e holds the end-to-end suite: real Kamailio 5.6 running examples/kamailio.cfg on
// free loopback ports, real sidecar processes built from ./cmd/sidecar, and SIPp phones
// (scenarios in testdata/).
//
// The tests run only when SIDECAR_E2E is set (make e2e, make test); without it they skip, so
// `go test ./...` stays Go-only. With it set, missing kamailio, kamcmd or sipp binaries fail
// the suite instead of skipping it. Every process is started and stopped by the suite itself,
// by pid (SIGTERM, then SIGKILL after 5 s); the run folder with every log and SIPp message
// trace is kept, and its path and the logs' tails printed, when a test fails.
//
// Loopback layout: Kamailio and the phones on 127.0.0.1, the two sidecars on 127.0.0.2 and
// 127.0.0.3 (the cfg trusts the pool by source IP, so no phone may share a sidecar's IP).
//
// What is checked:
//   - TestConfigCheck: `kamailio -c` accepts the cfg with its defaults, the suite's -A
//     parameters, WITHOUT_PRESENCE and WITH_DEBUG, and rejects a broken copy.
//   - TestRegistration: digest REGISTER against the shipped db_text table over UDP and TCP;
//     a wrong password is refused and registers nothing.
//   - TestHeaderContract (SIPp stand-ins as the pool, to read what Kamailio sends): spoofed
//     X-Caller-Template, X-Callee-Template, X-MailBoxId and X-MailBoxPin, in any case, never
//     reach the pool; *43 and *97 carry the caller's template and mailbox (and PIN for *97);
//     calls to an unregistered, busy or unanswering subscriber reach the pool with a Diversion
//     reason, the callee's template and mailbox; MWI SUBSCRIBE carries the subscriber's own
//     mailbox; a call to a non-subscriber is refused; phones never see template headers;
//     one subscriber's credentials do not place calls under another's name.
//   - TestFromSidecar: the pool's MWI NOTIFY and calls reach registered phones without
//     authentication; NOTIFY and PUBLISH from a phone's address are refused.
//   - TestPool (stand-ins): a draining sidecar (OPTIONS 503) gets no calls; INVITE answered
//     503 and a stopped sidecar fail over with no failed call; a mailbox's calls all land on
//     one sidecar.
//   - TestEchoHarness: the RTP echo check passes against SIPp's -rtp_echo and fails against a
//     silent peer.
//   - TestSidecar (two real sidecars): an authenticated caller gets its template; a spoofed
//     caller template from an unauthenticated caller is treated as unknown; *43 echoes RTP;
//     voicemail and MWI with real phones (baresip, driven over ctrl_tcp): bob's phone
//     SUBSCRIBEs for message-summary (0/0), alice's call to bob rings unanswered and is
//     diverted, alice's phone plays a generated chirp signal as the message; the stored WAV
//     must cross-correlate (20 ms energy envelopes) >= 0.8 with what was sent and an unrelated
//     signal < 0.5; bob's phone gets 1/0, dials *97, keys the PIN (RFC 4733), hears the message
//     (his phone's recording correlates >= 0.8), deletes it with 7, gets 0/0.
//   - TestVoicemailKill9 (a real sidecar, SIPp deposits straight to it): kill -9 during 20
//     concurrent recordings, with and without 5 messages finished by # before; after a restart
//     on the same store no partial message is visible, every message parses and plays, no
//     temporary file is left and the finished messages survive.
//   - TestVoicemailDepositMemory: the sidecar's resident memory per recording call, 100 at
//     once (BENCHMARKS.md).
//   - Every run folder's sidecar logs are scanned for the suite's PINs (the shipped subscriber
//     table's vmpin column) before it is removed: a PIN in a log fails the test
//     (TestLeakedPINs checks the scan itself).
//   - TestExampleScenarios (a real sidecar on the built-in settings, no Kamailio): the
//     newcomer's examples/sipp/ scenarios get their answers from the shipped templates: *486
//     486, *43 200 with the audio sent back (the sidecar's /metrics packet counters), *44 reads
//     back the digits sent as RFC 4733 events; without X-Caller-Template a call gets 403.
//   - TestFirstCall: examples/sipp/first-call.sh (make first-call) reports a 200 and echoed
//     audio, on free ports.
//   - TestBLFAfterKamailioRestart (an in-process sidecar, real Kamailio): a call to bob rings
//     and its early state is PUBLISHed; Kamailio restarts on the same port (presence state in
//     memory only); a watcher subscribes again; the call is answered and the sidecar's
//     SIP-If-Match modification gets 412 from the new Kamailio, is published afresh
//     (PublishBLF.Recovered412, the log's 412 line), and the watcher sees confirmed, then
//     terminated; the call itself survives the restart.
//   - TestCallRecordsUnderLoad (a real sidecar with [cdr] path, no Kamailio): SIPp places 500
//     calls at 150/s, alternately *486 and *43 with audio, as the subscriber template with a
//     mailbox PIN; the record file is renamed and SIGUSR1 sent mid-run. Across both files every
//     SIPp INVITE's Call-ID has exactly one line, every line decodes strictly as a cdr.Record
//     with the fields the call implies (answer, codec and RTP counters for echo calls, 486 and
//     no answer for busy ones), and the PIN is in neither file nor the sidecar's log. A
//     presence stand-in answers the BLF PUBLISHes.
//   - TestSidecarFailover (two real sidecars): one stopped, or draining on SIGTERM with a call
//     in progress: no call fails and the drained call ends normally.
package e2e
