DROP TABLE "scheduler_leases" CASCADE;--> statement-breakpoint
ALTER TABLE "device_sign_ins" ADD COLUMN "device_code_sealed" text;--> statement-breakpoint
ALTER TABLE "device_sign_ins" ADD COLUMN "poller_id" text;--> statement-breakpoint
ALTER TABLE "device_sign_ins" ADD COLUMN "poller_until" bigint;--> statement-breakpoint
ALTER TABLE "entra_setups" ADD COLUMN "graph_token_sealed" text;--> statement-breakpoint
ALTER TABLE "entra_setups" ADD COLUMN "graph_token_until" bigint;