package sipsvc

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/mwi/subs"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// The SUBSCRIBE server for message-waiting indication (RFC 6665 with RFC 3842's
// message-summary package). Kamailio routes a phone's SUBSCRIBE here (examples/kamailio.cfg
// route[PRESENCE]) with X-MailBoxId naming the mailbox; without it the Request-URI user is
// the mailbox. The subscription's NOTIFYs go inside its dialog, through the Record-Route set
// (Kamailio), at once on subscribe and on refresh, after every change the store's Watch
// reports, and a final one (Subscription-State: terminated) on un-subscribe and expiry.

// statusBadEvent answers a SUBSCRIBE for an event package the service does not serve.
const statusBadEvent = 489

// mwiHeader is the header naming the mailbox of a request (set by Kamailio).
const mwiHeader = "X-MailBoxId"

// notifyTimeout bounds one NOTIFY transaction.
const notifyTimeout = 10 * time.Second

// handleSubscribe answers SUBSCRIBE: 405 without a mailbox store (Options.Mailboxes), 489
// for an event other than message-summary, 423 under min-expires, 503 past max-subscriptions or while draining, 481
// for a refresh of an unknown subscription, 200 otherwise, followed by a NOTIFY.
func (s *Server) handleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	m := s.mwi
	if m == nil {
		s.handleOther(req, tx) // no mailbox store: SUBSCRIBE is not served (405)
		return
	}
	if _, ok := s.trusted(req, tx); !ok {
		return
	}
	defer tx.Terminate()
	if eventOf(req) != mwi.Event {
		s.respond(req, tx, statusBadEvent, "", sip.NewHeader("Allow-Events", mwi.Event))
		return
	}
	if acc := req.GetHeader("Accept"); acc != nil && !accepts(acc.Value(), mwi.ContentType) {
		s.respond(req, tx, sip.StatusNotAcceptable, "", sip.NewHeader("Accept", mwi.ContentType))
		return
	}
	expires, ok := s.requestedExpires(req)
	if !ok {
		s.respond(req, tx, sip.StatusBadRequest, "Bad Expires")
		return
	}
	if expires > 0 && expires < m.cfg.MinExpires {
		s.respond(req, tx, sip.StatusIntervalToBrief, "",
			sip.NewHeader("Min-Expires", strconv.Itoa(int(m.cfg.MinExpires/time.Second))))
		return
	}
	expires = min(expires, m.cfg.MaxExpires)
	if toTag(req) != "" {
		s.refreshSubscription(req, tx, expires)
		return
	}
	s.newSubscription(req, tx, expires)
}

// newSubscription creates a subscription (expires 0: a fetch, answered with one final NOTIFY).
func (s *Server) newSubscription(req *sip.Request, tx sip.ServerTransaction, expires time.Duration) {
	m := s.mwi
	if s.draining.Load() {
		s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
		return
	}
	mailbox := mailboxOf(req)
	if !voicemail.ValidMailbox(mailbox) {
		s.respond(req, tx, sip.StatusNotFound, "No Such Mailbox")
		return
	}
	d, err := subscriberDialog(req)
	if err != nil {
		s.log.Debug("SUBSCRIBE refused", "call_id", callIDOf(req), "error", err)
		s.respond(req, tx, sip.StatusBadRequest, "")
		return
	}
	sub := subs.Sub{Dialog: d, Mailbox: mailbox, Account: accountOf(req), Expires: time.Now().Add(expires)}
	log := s.log.With("call_id", d.CallID, "mailbox", mailbox)
	if expires == 0 {
		s.answerSubscribe(req, tx, d.LocalTag, 0)
		m.send(context.Background(), sub, 1, "terminated;reason=timeout", log)
		return
	}
	w, err := m.hold(mailbox)
	if err != nil {
		log.Warn("SUBSCRIBE refused: cannot watch the mailbox", "error", err)
		s.respond(req, tx, sip.StatusInternalServerError, "")
		return
	}
	if err := m.subs.Add(sub); err != nil {
		m.release(mailbox, w)
		if errors.Is(err, subs.ErrFull) {
			log.Warn("SUBSCRIBE refused: max-subscriptions reached", "max_subscriptions", m.cfg.MaxSubscriptions)
			s.respond(req, tx, sip.StatusServiceUnavailable, "", retryAfter(retryAfterBusy))
			return
		}
		s.respond(req, tx, sip.StatusInternalServerError, "")
		return
	}
	log.Info("MWI subscription", "expires", int(expires/time.Second), "route", len(d.RouteSet))
	s.answerSubscribe(req, tx, d.LocalTag, expires)
	m.notifyOne(w, d.ID(), log)
}

// refreshSubscription handles a SUBSCRIBE inside a subscription's dialog: a refresh, or an
// un-subscribe with Expires 0 (200, then the final NOTIFY).
func (s *Server) refreshSubscription(req *sip.Request, tx sip.ServerTransaction, expires time.Duration) {
	m := s.mwi
	id := subs.Dialog{CallID: callIDOf(req), LocalTag: toTag(req), RemoteTag: fromTag(req)}.ID()
	log := s.log.With("call_id", callIDOf(req))
	if expires == 0 {
		sub, ok := m.subs.Remove(id)
		if !ok {
			s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
			return
		}
		log.Info("MWI subscription ended by the subscriber", "mailbox", sub.Mailbox)
		s.answerSubscribe(req, tx, sub.Dialog.LocalTag, 0)
		m.terminate(sub, "timeout", log)
		return
	}
	sub, err := m.subs.Refresh(id, time.Now().Add(expires))
	if err != nil {
		s.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "")
		return
	}
	s.answerSubscribe(req, tx, sub.Dialog.LocalTag, expires)
	if w := m.watch(sub.Mailbox); w != nil {
		m.notifyOne(w, id, log.With("mailbox", sub.Mailbox))
	}
}

// answerSubscribe sends the 200 to a SUBSCRIBE with our tag, the granted Expires and Contact.
func (s *Server) answerSubscribe(req *sip.Request, tx sip.ServerTransaction, tag string, expires time.Duration) {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if to := res.To(); to != nil && toTag(req) == "" {
		to.Params.Add("tag", tag)
	}
	s.decorate(res)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	c := s.contactFor(req, tx)
	res.AppendHeader(&c)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "call_id", callIDOf(req), "status", 200, "error", err)
	}
}

// requestedExpires is the SUBSCRIBE's Expires (default-expires without one); ok is false
// for a value that is not a number of seconds.
func (s *Server) requestedExpires(req *sip.Request) (time.Duration, bool) {
	h := req.GetHeader("Expires")
	if h == nil {
		return s.mwi.cfg.DefaultExpires, true
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// eventOf is the event package a request names (Event header without parameters), lower case.
func eventOf(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		return ""
	}
	ev, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(ev))
}

// accepts reports whether an Accept header value admits the media type ct.
func accepts(accept, ct string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, a := range strings.Split(accept, ",") {
		a, _, _ = strings.Cut(a, ";")
		a = strings.ToLower(strings.TrimSpace(a))
		if a == ct || a == "*/*" || a == "application/*" {
			return true
		}
	}
	return false
}

// mailboxOf is the mailbox a request is about: X-MailBoxId (Kamailio sets it from the
// subscriber table), else the Request-URI user.
func mailboxOf(req *sip.Request) string {
	if h := req.GetHeader(mwiHeader); h != nil {
		if v := strings.TrimSpace(h.Value()); v != "" {
			return v
		}
	}
	return req.Recipient.User
}

// accountOf is the Message-Account of a subscription's bodies: the To URI (the resource
// subscribed to) without parameters.
func accountOf(req *sip.Request) string {
	u := req.Recipient
	if to := req.To(); to != nil {
		u = to.Address
	}
	a := sip.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host}
	if a.Scheme == "" {
		a.Scheme = "sip"
	}
	return a.String()
}

// errBadSubscribe reports a SUBSCRIBE that cannot form a dialog (no From tag or Contact).
var errBadSubscribe = errors.New("SUBSCRIBE without From tag or Contact")

// subscriberDialog is the dialog a new SUBSCRIBE forms, with a fresh local tag.
func subscriberDialog(req *sip.Request) (subs.Dialog, error) {
	from, to, contact := req.From(), req.To(), req.Contact()
	if from == nil || to == nil || contact == nil || fromTag(req) == "" {
		return subs.Dialog{}, errBadSubscribe
	}
	d := subs.Dialog{
		CallID: callIDOf(req), LocalTag: sip.GenerateTagN(16), RemoteTag: fromTag(req),
		LocalURI: to.Address.String(), RemoteURI: from.Address.String(),
		Target: contact.Address.String(), Transport: strings.ToLower(req.Transport()),
		Source: req.Source(),
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			d.RouteSet = append(d.RouteSet, rr.Address.String())
		} else {
			d.RouteSet = append(d.RouteSet, strings.Trim(h.Value(), "<> "))
		}
	}
	return d, nil
}

// summaryBody is the RFC 3842 body for counts.
func summaryBody(account string, c voicemail.Counts) ([]byte, error) {
	return mwi.Format(mwi.ForVoice(account, mwi.Counts(c)))
}
