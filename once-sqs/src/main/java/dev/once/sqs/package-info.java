/**
 * An Amazon SQS inbox consumer on the AWS SDK for Java v2: {@link dev.once.sqs.SqsInboxConsumer}
 * long-polls a queue, claims and applies each batch in one database transaction and deletes it
 * after the commit.
 */
@NullMarked
package dev.once.sqs;

import org.jspecify.annotations.NullMarked;
