import { ConversationsService } from '../conversations/conversations.service';
import { defineModule } from '../module';
import { ReadReceiptStreams } from './read-receipt-stream';
import { ConversationReadsResolver, ReadReceiptsResolver } from './read-receipts.resolver';
import { ReadReceiptsService } from './read-receipts.service';

/**
 * Read receipts: `markConversationRead` (positions only move forward), the `readReceipt` stream
 * (read-receipt-stream.ts, which derives a sender's move from the message event), and the
 * viewer's read state on `Conversation` through the loaders (read-receipts.loaders.ts). Owns
 * `read_receipts`, written here and by the messages module's send statement.
 */
export const readReceiptsModule = defineModule({
  name: 'read-receipts',
  resolvers: [ReadReceiptsResolver, ConversationReadsResolver],
  build({ db, bus, log, streams, container }) {
    const conversations = container.get(ConversationsService);
    const receipts = new ReadReceiptsService(db, bus, conversations, log);
    const receiptStreams = new ReadReceiptStreams({ bus, observer: streams }, conversations);
    return {
      provides: [receipts, new ReadReceiptsResolver(receipts, receiptStreams), new ConversationReadsResolver()],
    };
  },
});
