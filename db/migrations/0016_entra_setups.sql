CREATE TABLE `entra_setups` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` integer NOT NULL,
	`mailbox_id` integer,
	`kind` text NOT NULL,
	`app_name` text NOT NULL,
	`directory` text NOT NULL,
	`status` text NOT NULL,
	`user_code` text,
	`verification_uri` text,
	`expires_at` integer,
	`admin` text,
	`directory_id` text,
	`steps` text,
	`app_id` text,
	`test_id` integer,
	`failure_code` text,
	`failure_detail` text,
	`started_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `entra_setups_mailbox_created_idx` ON `entra_setups` (`mailbox_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `entra_setups_tenant_created_idx` ON `entra_setups` (`tenant_id`,`created_at`);