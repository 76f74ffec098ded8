CREATE TABLE `mailboxes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` integer NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`login` text NOT NULL,
	`password_sealed` text,
	`password_changed_at` integer,
	`password_changed_by` text,
	`smtp_host` text,
	`smtp_port` integer,
	`imap_host` text,
	`imap_port` integer,
	`use_tls` integer NOT NULL,
	`azure_client_id` text,
	`azure_tenant_id` text,
	`cloud` text DEFAULT 'global' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`updated_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mailboxes_tenant_name_unique` ON `mailboxes` (`tenant_id`,`name`);