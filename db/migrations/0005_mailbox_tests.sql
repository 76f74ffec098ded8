ALTER TABLE `test_runs` RENAME TO `mailbox_tests`;--> statement-breakpoint
DROP INDEX `test_runs_mailbox_started_idx`;--> statement-breakpoint
DROP INDEX `test_runs_user_started_idx`;--> statement-breakpoint
CREATE INDEX `mailbox_tests_mailbox_started_idx` ON `mailbox_tests` (`mailbox_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `mailbox_tests_user_started_idx` ON `mailbox_tests` (`triggered_by_id`,`started_at`);
