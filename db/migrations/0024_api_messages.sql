CREATE TABLE `api_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` integer NOT NULL,
	`mailbox_id` integer NOT NULL,
	`api_key_id` integer NOT NULL,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`message_id` text NOT NULL,
	`status` text NOT NULL,
	`answer_status` integer,
	`answer` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`api_key_id`) REFERENCES `api_keys`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_messages_key_idempotency_idx` ON `api_messages` (`api_key_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `api_messages_mailbox_created_idx` ON `api_messages` (`mailbox_id`,`created_at`);