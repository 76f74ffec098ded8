ALTER TABLE `mailboxes` ADD `sign_in_method` text DEFAULT 'password' NOT NULL;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `client_secret_sealed` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `certificate_pem` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `private_key_sealed` text;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `app_credential_expires_at` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `app_credential_changed_at` integer;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `app_credential_changed_by` text;