ALTER TABLE "mailboxes" ADD COLUMN "mailbox_address" text;--> statement-breakpoint
ALTER TABLE "mailboxes" ADD COLUMN "send_as" text;