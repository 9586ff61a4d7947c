// Realistic webhook payloads, shaped like the providers' documentation and captured traffic (ids made up).

export const telegram = {
  text: (updateId = 10001, text = 'Hello bot') => ({
    update_id: updateId,
    message: {
      message_id: 42,
      from: { id: 777000111, is_bot: false, first_name: 'Ada', username: 'ada', language_code: 'en' },
      chat: { id: 777000111, first_name: 'Ada', username: 'ada', type: 'private' },
      date: 1700000000,
      text,
      entities: text.startsWith('/')
        ? [{ offset: 0, length: text.split(' ')[0]!.length, type: 'bot_command' }]
        : undefined,
    },
  }),
  topic: {
    update_id: 10002,
    message: {
      message_id: 88,
      message_thread_id: 7,
      is_topic_message: true,
      from: { id: 5001, is_bot: false, first_name: 'Grace' },
      chat: { id: -1001234567890, title: 'Support', is_forum: true, type: 'supergroup' },
      date: 1700000001,
      text: 'in a topic',
    },
  },
  photo: {
    update_id: 10003,
    message: {
      message_id: 43,
      from: { id: 777000111, is_bot: false, first_name: 'Ada' },
      chat: { id: 777000111, type: 'private' },
      date: 1700000002,
      photo: [
        { file_id: 'AgACAgQAAxkBAAIBsmall', file_unique_id: 'AQADs', file_size: 1234, width: 90, height: 67 },
        {
          file_id: 'AgACAgQAAxkBAAIBmedium',
          file_unique_id: 'AQADm',
          file_size: 20480,
          width: 320,
          height: 240,
        },
        {
          file_id: 'AgACAgQAAxkBAAIBlarge',
          file_unique_id: 'AQADl',
          file_size: 98765,
          width: 1280,
          height: 960,
        },
      ],
      caption: 'my passport',
      caption_entities: [{ offset: 3, length: 8, type: 'bold' }],
    },
  },
  document: {
    update_id: 10004,
    message: {
      message_id: 44,
      from: { id: 777000111, is_bot: false, first_name: 'Ada' },
      chat: { id: 777000111, type: 'private' },
      date: 1700000003,
      document: {
        file_name: 'invoice.pdf',
        mime_type: 'application/pdf',
        file_id: 'BQACAgQAAxkBAAIBdoc',
        file_unique_id: 'AgADdoc',
        file_size: 54321,
      },
    },
  },
  callback: (updateId = 10005, data = 'city_break') => ({
    update_id: updateId,
    callback_query: {
      id: '4382bfdwdsb323b2d9',
      from: { id: 777000111, is_bot: false, first_name: 'Ada' },
      message: {
        message_id: 45,
        from: { id: 999, is_bot: true, first_name: 'TravelBot', username: 'travel_bot' },
        chat: { id: 777000111, type: 'private' },
        date: 1700000004,
        text: 'What kind of trip?',
        reply_markup: { inline_keyboard: [[{ text: 'City break', callback_data: 'city_break' }]] },
      },
      chat_instance: '-8912345678901234567',
      data,
    },
  }),
  edited: {
    update_id: 10006,
    edited_message: {
      message_id: 42,
      from: { id: 777000111, is_bot: false, first_name: 'Ada' },
      chat: { id: 777000111, type: 'private' },
      date: 1700000000,
      edit_date: 1700000100,
      text: 'Hello bot (edited)',
    },
  },
  location: {
    update_id: 10007,
    message: {
      message_id: 46,
      from: { id: 777000111, is_bot: false, first_name: 'Ada' },
      chat: { id: 777000111, type: 'private' },
      date: 1700000005,
      location: { latitude: 48.8584, longitude: 2.2945 },
    },
  },
  memberJoined: {
    update_id: 10008,
    message: {
      message_id: 47,
      from: { id: 5002, is_bot: false, first_name: 'Linus' },
      chat: { id: -100987, title: 'Group', type: 'supergroup' },
      date: 1700000006,
      new_chat_members: [{ id: 5002, is_bot: false, first_name: 'Linus' }],
    },
  },
  myChatMember: {
    update_id: 10009,
    my_chat_member: {
      chat: { id: -100987, title: 'Group', type: 'supergroup' },
      from: { id: 5002, is_bot: false, first_name: 'Linus' },
      date: 1700000007,
      old_chat_member: { user: { id: 999, is_bot: true, first_name: 'TravelBot' }, status: 'left' },
      new_chat_member: { user: { id: 999, is_bot: true, first_name: 'TravelBot' }, status: 'member' },
    },
  },
};

export const slack = {
  urlVerification: {
    token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
    challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    type: 'url_verification',
  },
  message: (eventId = 'Ev08MFMKH6', extra: Record<string, unknown> = {}) => ({
    token: 'XXYYZZ',
    team_id: 'T123ABC456',
    api_app_id: 'A123ABC456',
    event: {
      type: 'message',
      channel: 'C123ABC456',
      user: 'U123ABC456',
      text: 'Live long and prospect.',
      ts: '1355517523.000005',
      event_ts: '1355517523.000005',
      channel_type: 'channel',
      ...extra,
    },
    type: 'event_callback',
    authorizations: [{ enterprise_id: null, team_id: 'T123ABC456', user_id: 'UBOT000001', is_bot: true }],
    event_id: eventId,
    event_time: 1355517523,
  }),
  fileShare: {
    token: 'XXYYZZ',
    team_id: 'T123ABC456',
    event: {
      type: 'message',
      subtype: 'file_share',
      channel: 'D024BE91L',
      channel_type: 'im',
      user: 'U123ABC456',
      text: 'here is the report',
      ts: '1700000000.000200',
      files: [
        {
          id: 'F0123ABCD',
          name: 'report.csv',
          mimetype: 'text/csv',
          size: 2048,
          url_private: 'https://files.slack.com/files-pri/T123ABC456-F0123ABCD/report.csv',
        },
      ],
    },
    type: 'event_callback',
    event_id: 'Ev0FILE0001',
    event_time: 1700000000,
  },
  blockActions: {
    type: 'block_actions',
    user: { id: 'U123ABC456', username: 'ada', name: 'ada', team_id: 'T123ABC456' },
    api_app_id: 'A123ABC456',
    token: 'XXYYZZ',
    container: {
      type: 'message',
      message_ts: '1700000001.000300',
      channel_id: 'C123ABC456',
      is_ephemeral: false,
    },
    trigger_id: '13345224609.738474920.8088930838d88f008e0',
    team: { id: 'T123ABC456', domain: 'acme' },
    channel: { id: 'C123ABC456', name: 'support' },
    message: { type: 'message', ts: '1700000001.000300', thread_ts: '1700000000.000100', text: 'Pick one' },
    response_url: 'https://hooks.slack.com/actions/T123ABC456/1234/abcd',
    actions: [
      {
        action_id: 'gt_btn_1',
        block_id: 'gt_actions_0',
        text: { type: 'plain_text', text: 'City break', emoji: true },
        value: 'city_break',
        type: 'button',
        action_ts: '1700000002.000400',
      },
    ],
  },
  slashCommand:
    'token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fweather&text=94070&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0&api_app_id=A123456',
};

export const teams = {
  message: (serviceUrl: string, extra: Record<string, unknown> = {}) => ({
    type: 'message',
    id: '1700000000000',
    timestamp: '2024-01-01T10:00:00.000Z',
    localTimestamp: '2024-01-01T11:00:00.000+01:00',
    serviceUrl,
    channelId: 'msteams',
    from: {
      id: '29:1a2b3c4d5e6f',
      name: 'Ada Lovelace',
      aadObjectId: '00000000-aaaa-bbbb-cccc-000000000001',
    },
    conversation: {
      conversationType: 'channel',
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      id: '19:abcdef0123456789@thread.tacv2;messageid=1699999999999',
      isGroup: true,
    },
    recipient: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc', name: 'TravelBot' },
    textFormat: 'plain',
    locale: 'en-US',
    text: '<at>TravelBot</at> book a trip',
    replyToId: '1699999999999',
    entities: [
      {
        mentioned: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc', name: 'TravelBot' },
        text: '<at>TravelBot</at>',
        type: 'mention',
      },
      { locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/Paris', type: 'clientInfo' },
    ],
    channelData: {
      teamsChannelId: '19:abcdef0123456789@thread.tacv2',
      teamsTeamId: '19:team@thread.tacv2',
      channel: { id: '19:abcdef0123456789@thread.tacv2' },
      team: { id: '19:team@thread.tacv2' },
      tenant: { id: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
    },
    attachments: [{ contentType: 'text/html', content: '<div><at>TravelBot</at> book a trip</div>' }],
    ...extra,
  }),
  submit: (serviceUrl: string) => ({
    type: 'message',
    id: '1700000000500',
    serviceUrl,
    channelId: 'msteams',
    from: { id: '29:1a2b3c4d5e6f', name: 'Ada Lovelace' },
    conversation: { conversationType: 'personal', id: 'a:1personalConversationId' },
    recipient: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc', name: 'TravelBot' },
    replyToId: '1:activity-1',
    value: { action: 'city_break', people: '2' },
    channelData: { source: { name: 'message' }, tenant: { id: '72f988bf-86f1-41af-91ab-2d7cd011db47' } },
  }),
  execute: (serviceUrl: string) => ({
    type: 'invoke',
    name: 'adaptiveCard/action',
    id: 'f:invoke-123',
    serviceUrl,
    channelId: 'msteams',
    from: { id: '29:1a2b3c4d5e6f', name: 'Ada Lovelace' },
    conversation: { conversationType: 'personal', id: 'a:1personalConversationId' },
    recipient: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc', name: 'TravelBot' },
    value: { action: { type: 'Action.Execute', verb: 'book', data: { city: 'Paris' } }, trigger: 'manual' },
  }),
  file: (serviceUrl: string) => ({
    type: 'message',
    id: '1700000000900',
    serviceUrl,
    channelId: 'msteams',
    from: { id: '29:1a2b3c4d5e6f' },
    conversation: { conversationType: 'personal', id: 'a:1personalConversationId' },
    recipient: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc', name: 'TravelBot' },
    attachments: [
      {
        contentType: 'application/vnd.microsoft.teams.file.download.info',
        contentUrl: 'https://contoso.sharepoint.com/personal/ada/Documents/report.pdf',
        name: 'report.pdf',
        content: {
          downloadUrl: 'https://download.example/report.pdf?token=abc',
          uniqueId: 'f-1',
          fileType: 'pdf',
        },
      },
      {
        contentType: 'image/png',
        contentUrl: 'https://smba.trafficmanager.net/amer/v3/attachments/img-1/views/original',
      },
    ],
  }),
  conversationUpdate: (serviceUrl: string) => ({
    type: 'conversationUpdate',
    id: 'f:conv-update-1',
    serviceUrl,
    channelId: 'msteams',
    membersAdded: [{ id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc' }],
    conversation: { conversationType: 'personal', id: 'a:1personalConversationId' },
    recipient: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc' },
    from: { id: '29:1a2b3c4d5e6f' },
  }),
};

const waValue = (phoneNumberId: string, extra: Record<string, unknown>) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
            ...extra,
          },
          field: 'messages',
        },
      ],
    },
  ],
});

export const whatsapp = {
  PHONE_ID: '106540352242922',
  text: (
    phoneNumberId: string,
    id = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
    body = 'Hi there',
  ) =>
    waValue(phoneNumberId, {
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
      messages: [{ from: '16505551234', id, timestamp: '1749416383', type: 'text', text: { body } }],
    }),
  image: (phoneNumberId: string) =>
    waValue(phoneNumberId, {
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
      messages: [
        {
          from: '16505551234',
          id: 'wamid.IMAGE01',
          timestamp: '1749416384',
          type: 'image',
          image: {
            caption: 'the broken part',
            mime_type: 'image/jpeg',
            sha256: 'RG8gbm90IHJlYWQgdGhpcw==',
            id: '1003383421387256',
          },
        },
      ],
    }),
  buttonReply: (phoneNumberId: string) =>
    waValue(phoneNumberId, {
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
      messages: [
        {
          context: { from: '15550783881', id: 'wamid.BOTQUESTION' },
          from: '16505551234',
          id: 'wamid.BUTTON01',
          timestamp: '1749416385',
          type: 'interactive',
          interactive: { type: 'button_reply', button_reply: { id: 'city_break', title: 'City break' } },
        },
      ],
    }),
  listReply: (phoneNumberId: string) =>
    waValue(phoneNumberId, {
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
      messages: [
        {
          from: '16505551234',
          id: 'wamid.LIST01',
          timestamp: '1749416386',
          type: 'interactive',
          interactive: {
            type: 'list_reply',
            list_reply: { id: 'mountains', title: 'Mountains', description: 'Alps' },
          },
        },
      ],
    }),
  statuses: (phoneNumberId: string) =>
    waValue(phoneNumberId, {
      statuses: [
        {
          id: 'wamid.SENT01',
          status: 'delivered',
          timestamp: '1749416400',
          recipient_id: '16505551234',
          pricing: { billable: true, pricing_model: 'PMP', category: 'service' },
        },
      ],
    }),
  twoMessages: (phoneNumberId: string) =>
    waValue(phoneNumberId, {
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
      messages: [
        { from: '16505551234', id: 'wamid.M1', timestamp: '1749416390', type: 'text', text: { body: 'one' } },
        { from: '16505551234', id: 'wamid.M2', timestamp: '1749416391', type: 'text', text: { body: 'two' } },
      ],
    }),
};
