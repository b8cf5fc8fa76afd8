CREATE TABLE "payment_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_user_id" uuid NOT NULL,
	"merchant_wallet_id" uuid NOT NULL,
	"reference" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"capture_mode" text NOT NULL,
	"status" text NOT NULL,
	"terms" jsonb NOT NULL,
	"payment_id" text,
	"payer_user_id" uuid,
	"payer_wallet_id" uuid,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "payment_requests_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payout_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"batch_id" text NOT NULL,
	"requested_by" uuid NOT NULL,
	"token" text NOT NULL,
	"total" numeric(78, 0) NOT NULL,
	"items" jsonb NOT NULL,
	"movement_id" uuid,
	"relay_id" text,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "payout_batches_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "payment_requests_reference" ON "payment_requests" USING btree ("merchant_user_id","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_requests_payment_id" ON "payment_requests" USING btree ("payment_id");--> statement-breakpoint
CREATE INDEX "payment_requests_merchant" ON "payment_requests" USING btree ("merchant_user_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "payout_batches_batch_id" ON "payout_batches" USING btree ("batch_id");