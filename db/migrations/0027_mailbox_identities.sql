ALTER TABLE `mailboxes` ADD `mailbox_address` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `send_as` text;