CREATE TABLE `device_sign_ins` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` integer NOT NULL,
	`mailbox_id` integer NOT NULL,
	`mailbox_version` integer NOT NULL,
	`started_by` text NOT NULL,
	`started_by_id` integer,
	`status` text NOT NULL,
	`user_code` text,
	`verification_uri` text,
	`expires_at` integer,
	`last_answer` text,
	`polled_at` integer,
	`failure_code` text,
	`failure_detail` text,
	`account` text,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `device_sign_ins_mailbox_created_idx` ON `device_sign_ins` (`mailbox_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `device_sign_ins_status_tenant_idx` ON `device_sign_ins` (`status`,`tenant_id`);--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `signed_in_account` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `signed_in_at` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `signed_in_by` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `sign_in_lost_at` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `sign_in_lost_code` text;