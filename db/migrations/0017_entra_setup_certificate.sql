ALTER TABLE `entra_setups` ADD `cloud` text DEFAULT 'global' NOT NULL;--> statement-breakpoint
ALTER TABLE `entra_setups` ADD `service_principal_id` text;--> statement-breakpoint
ALTER TABLE `entra_setups` ADD `certificate_pem` text;--> statement-breakpoint
ALTER TABLE `entra_setups` ADD `private_key_sealed` text;