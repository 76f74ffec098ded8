CREATE TABLE `token_caches` (
	`mailbox_id` integer PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`cache_sealed` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
