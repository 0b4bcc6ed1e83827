/** The part of Parley's contract (schema/schema.graphql) the benchmark scenarios use, as SDL. */
export const typeDefs = /* GraphQL */ `
  scalar DateTime

  type User {
    id: ID!
    username: String!
    displayName: String!
    createdAt: DateTime!
  }

  type Message {
    id: ID!
    conversationId: ID!
    seq: Int!
    body: String!
    clientMessageId: String
    createdAt: DateTime!
    sender: User!
  }

  type MessageEdge {
    cursor: String!
    node: Message!
  }

  type PageInfo {
    endCursor: String
    hasNextPage: Boolean!
  }

  type MessageConnection {
    edges: [MessageEdge!]!
    pageInfo: PageInfo!
  }

  enum MessageOrder {
    NEWEST_FIRST
    OLDEST_FIRST
  }

  input SendMessageInput {
    conversationId: ID
    body: String!
    clientMessageId: String
    participantIds: [ID!]
  }

  input ConversationPositionInput {
    conversationId: ID!
    seq: Int!
  }

  type Query {
    messages(
      conversationId: ID!
      first: Int = 50
      after: String
      order: MessageOrder = NEWEST_FIRST
    ): MessageConnection!
  }

  type Mutation {
    sendMessage(input: SendMessageInput!): Message!
  }

  type Subscription {
    messageAdded(conversationId: ID, includeOwn: Boolean = false, after: [ConversationPositionInput!]): Message!
  }
`;
