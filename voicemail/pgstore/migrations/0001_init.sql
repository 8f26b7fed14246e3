-- Mailboxes, messages (envelope and WAV audio in one row) and greetings.
-- next_id numbers a mailbox's messages: a deposit locks the row (SELECT ... FOR UPDATE),
-- takes the number and bumps it in the transaction that inserts the message, so numbers
-- never collide and are never reused.
CREATE TABLE voicemail_mailbox (
	mailbox text PRIMARY KEY,
	next_id bigint NOT NULL DEFAULT 1 CHECK (next_id > 0)
);

CREATE TABLE voicemail_message (
	mailbox     text NOT NULL REFERENCES voicemail_mailbox ON DELETE CASCADE,
	id          bigint NOT NULL CHECK (id > 0),
	folder      text NOT NULL CHECK (folder IN ('INBOX', 'Old', 'Work', 'Family', 'Friends', 'Urgent')),
	uid         text NOT NULL,
	caller_id   text NOT NULL DEFAULT '',
	caller_name text NOT NULL DEFAULT '',
	received    timestamptz NOT NULL,
	duration_ms bigint NOT NULL CHECK (duration_ms >= 0),
	urgent      boolean NOT NULL DEFAULT false,
	codec       text NOT NULL,
	audio       bytea NOT NULL,
	PRIMARY KEY (mailbox, id),
	UNIQUE (mailbox, uid)
);
CREATE INDEX voicemail_message_folder ON voicemail_message (mailbox, folder, id);
-- G.711 audio does not compress: store it out of line without trying pglz first.
ALTER TABLE voicemail_message ALTER COLUMN audio SET STORAGE EXTERNAL;

CREATE TABLE voicemail_greeting (
	mailbox text NOT NULL REFERENCES voicemail_mailbox ON DELETE CASCADE,
	kind    text NOT NULL CHECK (kind IN ('unavail', 'busy', 'temp', 'name')),
	audio   bytea NOT NULL,
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (mailbox, kind)
);
ALTER TABLE voicemail_greeting ALTER COLUMN audio SET STORAGE EXTERNAL;
