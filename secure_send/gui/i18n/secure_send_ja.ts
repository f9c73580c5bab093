<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About Secure Send</source>
        <translation>セキュア送信について</translation>
    </message>
    <message>
        <source>Secure Send</source>
        <translation>セキュア送信</translation>
    </message>
</context>
<context>
    <name>AccountPage</name>
    <message>
        <source>Your account</source>
        <translation>利用者情報</translation>
    </message>
    <message>
        <source>Enter your user ID and the one-time code from IT.</source>
        <translation>ユーザーIDと、情報システム担当から受け取ったワンタイムコードを入力してください。</translation>
    </message>
    <message>
        <source>&amp;Enrol</source>
        <translation>登録(&amp;E)</translation>
    </message>
    <message>
        <source>User ID</source>
        <translation>ユーザーID</translation>
    </message>
    <message>
        <source>For example: hanako.sato</source>
        <translation>例：hanako.sato</translation>
    </message>
    <message>
        <source>One-time code</source>
        <translation>ワンタイムコード</translation>
    </message>
    <message>
        <source>The code IT gave you</source>
        <translation>情報システム担当から受け取ったコード</translation>
    </message>
    <message>
        <source>Device name</source>
        <translation>端末名</translation>
    </message>
    <message>
        <source>How IT sees this PC</source>
        <translation>情報システム担当に表示されるこのパソコンの名前</translation>
    </message>
    <message>
        <source>Enrolling</source>
        <translation>登録中</translation>
    </message>
    <message>
        <source>Waiting for IT</source>
        <translation>情報システム担当の確認待ち</translation>
    </message>
    <message>
        <source>Enrolment problem</source>
        <translation>登録の問題</translation>
    </message>
    <message>
        <source>&amp;User ID:</source>
        <translation>ユーザーID(&amp;U)：</translation>
    </message>
    <message>
        <source>One-time &amp;code:</source>
        <translation>ワンタイムコード(&amp;C)：</translation>
    </message>
    <message>
        <source>&amp;Device name:</source>
        <translation>端末名(&amp;D)：</translation>
    </message>
    <message>
        <source>Use lowercase letters a-z, digits, '.', '_' or '-' (at most 64).</source>
        <translation>半角英小文字（a-z）、数字、「.」「_」「-」のみ使用できます（64文字以内）。</translation>
    </message>
    <message>
        <source>Waiting for IT to confirm this PC… Your request has reached the server; this usually takes a few seconds.</source>
        <translation>情報システム担当の確認を待っています… 申請はサーバーに届いています。通常は数秒で終わります。</translation>
    </message>
</context>
<context>
    <name>Approval</name>
    <message>
        <source>Confidentiality 1</source>
        <translation>機密性1</translation>
    </message>
    <message>
        <source>Confidentiality 2</source>
        <translation>機密性2</translation>
    </message>
    <message>
        <source>Confidentiality 3</source>
        <translation>機密性3</translation>
    </message>
    <message>
        <source>contains My Numbers</source>
        <translation>個人番号を含む</translation>
    </message>
    <message>
        <source>sent outside the department</source>
        <translation>部署外への送信</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Awaiting approval (approver: %1)</source>
        <translation>承認待ち（承認者：%1）</translation>
    </message>
    <message>
        <source>Approved (%1, %2)</source>
        <translation>承認済み（%1、%2）</translation>
    </message>
    <message>
        <source>Returned (%1): %2</source>
        <translation>差し戻し（%1）：%2</translation>
    </message>
    <message>
        <source>⚠ The server shows an approval that does not verify: the drop is treated as not approved. Tell IT security.</source>
        <translation>⚠ サーバーが示した承認は検証できません。この送信は未承認として扱います。情報セキュリティ担当に連絡してください。</translation>
    </message>
</context>
<context>
    <name>ApprovalNotes</name>
    <message>
        <source>Superior's approval</source>
        <translation>上長の承認</translation>
    </message>
    <message>
        <source>This send needs your superior's approval (reason: %1). Approver: %2. The recipients receive nothing until it is approved.</source>
        <translation>この送信には上長の承認が必要です（理由：%1）。承認者：%2。承認されるまで相手には届きません。</translation>
    </message>
</context>
<context>
    <name>ApprovalsPage</name>
    <message>
        <source>From</source>
        <translation>差出人</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>所属</translation>
    </message>
    <message>
        <source>Sent at</source>
        <translation>送信日時</translation>
    </message>
    <message>
        <source>Why approval</source>
        <translation>承認が必要な理由</translation>
    </message>
    <message>
        <source>Confidentiality</source>
        <translation>機密性</translation>
    </message>
    <message>
        <source>Sends waiting for your approval</source>
        <translation>あなたの承認を待つ送信</translation>
    </message>
    <message>
        <source>Approval list status</source>
        <translation>承認待ち一覧の状態</translation>
    </message>
    <message>
        <source>&amp;Check the files</source>
        <translation>ファイルを確認(&amp;C)</translation>
    </message>
    <message>
        <source>Save the files to the download folder and open it</source>
        <translation>ファイルをダウンロードフォルダーに保存して開きます</translation>
    </message>
    <message>
        <source>&amp;Approve…</source>
        <translation>承認(&amp;A)…</translation>
    </message>
    <message>
        <source>Approve this send: its recipients receive the files</source>
        <translation>この送信を承認します。受信者にファイルが届きます</translation>
    </message>
    <message>
        <source>&amp;Return…</source>
        <translation>差し戻し(&amp;R)…</translation>
    </message>
    <message>
        <source>Return this send to its sender with a reason: nobody receives it</source>
        <translation>理由を添えて送信者に差し戻します。誰にも届きません</translation>
    </message>
    <message>
        <source>Approval status</source>
        <translation>承認の状態</translation>
    </message>
    <message>
        <source>Nothing waits for your approval</source>
        <translation>承認待ちの送信はありません</translation>
    </message>
    <message>
        <source>Approve this send from %1?</source>
        <translation>%1からの送信を承認しますか？</translation>
    </message>
    <message>
        <source>Files:</source>
        <translation>ファイル：</translation>
    </message>
    <message>
        <source>Recipients who will receive it:</source>
        <translation>受け取る人：</translation>
    </message>
    <message>
        <source>Once approved, it cannot be taken back by you.</source>
        <translation>承認すると、あなたが取り消すことはできません。</translation>
    </message>
    <message>
        <source>Approving…</source>
        <translation>承認しています…</translation>
    </message>
    <message>
        <source>Returning…</source>
        <translation>差し戻しています…</translation>
    </message>
    <message>
        <source>Approved: the recipients can now receive it.</source>
        <translation>承認しました。受信者が受け取れるようになりました。</translation>
    </message>
    <message>
        <source>Returned to the sender: nobody receives it.</source>
        <translation>送信者に差し戻しました。誰にも届きません。</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>保存しています…</translation>
    </message>
    <message numerus="yes">
        <source>Saved %n file(s) to %1.</source>
        <translation>
            <numerusform>%n 件のファイルを %1 に保存しました。</numerusform>
        </translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>承認</translation>
    </message>
</context>
<context>
    <name>Classification</name>
    <message>
        <source>Confidentiality 1 (public)</source>
        <translation>機密性1（公開情報相当）</translation>
    </message>
    <message>
        <source>Confidentiality 2 (internal)</source>
        <translation>機密性2（要機密情報）</translation>
    </message>
    <message>
        <source>Confidentiality 3 (secret)</source>
        <translation>機密性3（秘密文書相当）</translation>
    </message>
</context>
<context>
    <name>ConfirmSendDialog</name>
    <message>
        <source>Confirm sending</source>
        <translation>送信内容の確認</translation>
    </message>
    <message>
        <source>Recipients</source>
        <translation>宛先</translation>
    </message>
    <message>
        <source>Files</source>
        <translation>ファイル</translation>
    </message>
    <message>
        <source>Total size</source>
        <translation>合計サイズ</translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n 日間</numerusform>
        </translation>
    </message>
    <message>
        <source>Recipients:</source>
        <translation>宛先：</translation>
    </message>
    <message numerus="yes">
        <source>Files (%n):</source>
        <translation>
            <numerusform>ファイル（%n 件）：</numerusform>
        </translation>
    </message>
    <message>
        <source>Total size:</source>
        <translation>合計サイズ：</translation>
    </message>
    <message>
        <source>Available for:</source>
        <translation>ダウンロード期限：</translation>
    </message>
    <message>
        <source>Classification:</source>
        <translation>機密性区分：</translation>
    </message>
    <message>
        <source>Encryption</source>
        <translation>暗号方式</translation>
    </message>
    <message>
        <source>Encryption:</source>
        <translation>暗号方式：</translation>
    </message>
    <message>
        <source>Message:</source>
        <translation>メッセージ：</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>送信(&amp;S)</translation>
    </message>
    <message>
        <source>Send now</source>
        <translation>今すぐ送信</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Please check before sending:</source>
        <translation>送信前に内容をご確認ください：</translation>
    </message>
    <message>
        <source>&amp;Back</source>
        <translation>戻る(&amp;B)</translation>
    </message>
    <message>
        <source>Back to the form</source>
        <translation>入力画面に戻る</translation>
    </message>
    <message>
        <source>(required for files with My Numbers)</source>
        <translation>（個人番号を含むため必須）</translation>
    </message>
    <message>
        <source>approver</source>
        <translation>承認者</translation>
    </message>
    <message>
        <source>%1 (%2, %3) has a colleague with a similar name, %4 (%5, %6). Check that the recipient is right.</source>
        <translation>%1（%2、%3）には似た名前の %4（%5、%6）がいます。宛先が正しいか確認してください。</translation>
    </message>
    <message numerus="yes">
        <source>role mailbox, %n member(s)</source>
        <translation>
            <numerusform>共用窓口、メンバー %n 名</numerusform>
        </translation>
    </message>
    <message>
        <source>A new device was added on %1 (%2)</source>
        <translation>新しい端末が %1 に追加されています（%2）</translation>
    </message>
    <message>
        <source>%1: a new device was added on %2 (%3)</source>
        <translation>%1：新しい端末が %2 に追加されています（%3）</translation>
    </message>
    <message>
        <source>Device ID: %1</source>
        <translation>端末ID：%1</translation>
    </message>
</context>
<context>
    <name>ConfirmSubmitDialog</name>
    <message>
        <source>Submit files</source>
        <translation>ファイルの提出</translation>
    </message>
    <message>
        <source>Submit these files to the file request?</source>
        <translation>この提出依頼にファイルを提出しますか？</translation>
    </message>
    <message>
        <source>(title not readable here)</source>
        <translation>（この端末では件名を読めません）</translation>
    </message>
    <message>
        <source>Files to submit</source>
        <translation>提出するファイル</translation>
    </message>
    <message>
        <source>File request:</source>
        <translation>提出依頼：</translation>
    </message>
    <message>
        <source>Goes to:</source>
        <translation>提出先：</translation>
    </message>
    <message>
        <source>Files:</source>
        <translation>ファイル：</translation>
    </message>
    <message>
        <source>&amp;Submit</source>
        <translation>提出(&amp;S)</translation>
    </message>
    <message>
        <source>Submit now</source>
        <translation>今すぐ提出</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
</context>
<context>
    <name>CreateRequestDialog</name>
    <message>
        <source>Create a file request</source>
        <translation>提出依頼の作成</translation>
    </message>
    <message>
        <source>Mailbox that collects</source>
        <translation>提出先の窓口</translation>
    </message>
    <message>
        <source>Me (%1)</source>
        <translation>自分（%1）</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>件名</translation>
    </message>
    <message>
        <source>&amp;Due date:</source>
        <translation>提出期限(&amp;D)：</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>提出期限</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>メッセージ</translation>
    </message>
    <message>
        <source>Departments</source>
        <translation>部署</translation>
    </message>
    <message>
        <source>De&amp;partments:</source>
        <translation>部署(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Everyone (all staff)</source>
        <translation>全職員(&amp;E)</translation>
    </message>
    <message>
        <source>Collect i&amp;nto:</source>
        <translation>提出先(&amp;N)：</translation>
    </message>
    <message>
        <source>Tit&amp;le:</source>
        <translation>件名(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Message:</source>
        <translation>メッセージ(&amp;M)：</translation>
    </message>
    <message>
        <source>C&amp;reate</source>
        <translation>作成(&amp;R)</translation>
    </message>
    <message>
        <source>Create the file request</source>
        <translation>提出依頼を作成</translation>
    </message>
</context>
<context>
    <name>DiagnosticsDialog</name>
    <message>
        <source>Diagnostics</source>
        <translation>診断情報</translation>
    </message>
    <message>
        <source>Give this information to IT when you ask for help. It contains no keys, file names or messages.</source>
        <translation>問い合わせの際は、この情報を情報システム担当に伝えてください。鍵、ファイル名、メッセージは含まれていません。</translation>
    </message>
    <message>
        <source>Diagnostic information</source>
        <translation>診断情報の内容</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>コピー(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the diagnostic information</source>
        <translation>診断情報をコピー</translation>
    </message>
</context>
<context>
    <name>DirectoryBanner</name>
    <message>
        <source>Directory not checked yet</source>
        <translation>名簿の確認：まだありません</translation>
    </message>
    <message>
        <source>Directory checked: %1</source>
        <translation>名簿の確認：%1</translation>
    </message>
    <message>
        <source>Why sending is blocked</source>
        <translation>送信できない理由</translation>
    </message>
    <message>
        <source>Directory problem</source>
        <translation>名簿の問題</translation>
    </message>
    <message>
        <source>Retr&amp;y now</source>
        <translation>今すぐ再試行(&amp;Y)</translation>
    </message>
    <message>
        <source>Retry loading the directory</source>
        <translation>職員名簿の読み込みを再試行</translation>
    </message>
</context>
<context>
    <name>DonePage</name>
    <message>
        <source>Enrolment result</source>
        <translation>登録結果</translation>
    </message>
    <message>
        <source>This device's identity code</source>
        <translation>この端末の識別コード</translation>
    </message>
    <message>
        <source>If IT asks, read out this code so they can check it is really this PC.</source>
        <translation>情報システム担当から求められた場合は、このパソコンであることを確認するため、このコードを読み上げてください。</translation>
    </message>
    <message>
        <source>This device's identity code:</source>
        <translation>この端末の識別コード：</translation>
    </message>
    <message>
        <source>Waiting for IT approval</source>
        <translation>情報システム担当の承認待ち</translation>
    </message>
    <message>
        <source>This PC's request has reached IT, who must approve it. Secure Send finishes setting up by itself once IT has approved it; until then you can close Secure Send and start it again later.</source>
        <translation>このパソコンの登録申請は情報システム担当に届きました。情報システム担当の承認が必要です。承認されるとセキュア送信は自動的に設定を完了します。それまではセキュア送信を閉じて、後で起動し直してもかまいません。</translation>
    </message>
    <message>
        <source>Request sent to IT</source>
        <translation>登録申請を送りました</translation>
    </message>
    <message>
        <source>This PC's request has reached IT. Secure Send finishes setting up by itself once IT has processed it; until then you can close Secure Send and start it again later.</source>
        <translation>このパソコンの登録申請は情報システム担当に届きました。処理が終わるとセキュア送信は自動的に設定を完了します。それまではセキュア送信を閉じて、後で起動し直してもかまいません。</translation>
    </message>
    <message>
        <source>Enrolled</source>
        <translation>登録が完了しました</translation>
    </message>
    <message>
        <source>This PC is set up. You can now send and receive files.</source>
        <translation>このパソコンの設定が完了しました。ファイルの送受信をご利用いただけます。</translation>
    </message>
</context>
<context>
    <name>DropDetailsPane</name>
    <message>
        <source>Drop details</source>
        <translation>送付の詳細</translation>
    </message>
    <message>
        <source>Drop details status</source>
        <translation>送付の詳細の状況</translation>
    </message>
    <message>
        <source>Sender</source>
        <translation>差出人</translation>
    </message>
    <message>
        <source>Recipients</source>
        <translation>宛先</translation>
    </message>
    <message>
        <source>Confidentiality</source>
        <translation>機密性</translation>
    </message>
    <message>
        <source>Download deadline</source>
        <translation>ダウンロード期限</translation>
    </message>
    <message>
        <source>Encryption</source>
        <translation>暗号方式</translation>
    </message>
    <message>
        <source>Total size</source>
        <translation>合計サイズ</translation>
    </message>
    <message>
        <source>Message from the sender</source>
        <translation>差出人からのメッセージ</translation>
    </message>
    <message>
        <source>From:</source>
        <translation>差出人：</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>宛先：</translation>
    </message>
    <message>
        <source>Confidentiality:</source>
        <translation>機密性：</translation>
    </message>
    <message>
        <source>Download deadline:</source>
        <translation>ダウンロード期限：</translation>
    </message>
    <message>
        <source>Encryption:</source>
        <translation>暗号方式：</translation>
    </message>
    <message>
        <source>Files:</source>
        <translation>ファイル：</translation>
    </message>
    <message>
        <source>Total:</source>
        <translation>合計：</translation>
    </message>
    <message>
        <source>Message:</source>
        <translation>メッセージ：</translation>
    </message>
    <message>
        <source>File name</source>
        <translation>ファイル名</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>サイズ</translation>
    </message>
    <message>
        <source>Files in this drop</source>
        <translation>この送付のファイル</translation>
    </message>
    <message>
        <source>Select a drop to see what it holds.</source>
        <translation>送付を選ぶと、その内容をここに表示します。</translation>
    </message>
    <message>
        <source>Loading the details…</source>
        <translation>詳細を読み込んでいます…</translation>
    </message>
    <message>
        <source>The details cannot be shown. %1</source>
        <translation>詳細を表示できません。%1</translation>
    </message>
    <message numerus="yes">
        <source>%1 in %n file(s)</source>
        <translation>
            <numerusform>ファイル %n 件、合計 %1</numerusform>
        </translation>
    </message>
    <message>
        <source>(no message)</source>
        <translation>（メッセージなし）</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>%1 (role mailbox)</source>
        <translation>%1（共用窓口）</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>%1 of %2 members downloaded, %3 without a registered device</source>
        <translation>%2 名中 %1 名がダウンロード済み、%3 名は端末未登録</translation>
    </message>
    <message>
        <source>%1 of %2 members downloaded</source>
        <translation>%2 名中 %1 名がダウンロード済み</translation>
    </message>
</context>
<context>
    <name>DropZone</name>
    <message>
        <source>Drop zone for files and folders</source>
        <translation>ファイルとフォルダーのドロップ領域</translation>
    </message>
    <message>
        <source>Drag files or folders here, or click to choose files</source>
        <translation>ファイルやフォルダーをここにドラッグするか、クリックしてファイルを選択してください</translation>
    </message>
    <message>
        <source>Drag files or folders here</source>
        <translation>ここにファイルやフォルダーをドラッグしてください</translation>
    </message>
    <message>
        <source>A&amp;dd files…</source>
        <translation>ファイルを追加（&amp;D）…</translation>
    </message>
    <message>
        <source>Add files</source>
        <translation>ファイルを追加</translation>
    </message>
    <message>
        <source>Add f&amp;older…</source>
        <translation>フォルダーを追加(&amp;O)…</translation>
    </message>
    <message>
        <source>Add folder</source>
        <translation>フォルダーを追加</translation>
    </message>
    <message>
        <source>Choose files to send</source>
        <translation>送信するファイルを選択</translation>
    </message>
    <message>
        <source>Choose a folder to send</source>
        <translation>送信するフォルダーを選択</translation>
    </message>
</context>
<context>
    <name>EnrolWaitingDialog</name>
    <message>
        <source>Setting up Secure Send</source>
        <translation>セキュア送信の設定</translation>
    </message>
    <message>
        <source>Enrolment status</source>
        <translation>登録の状況</translation>
    </message>
    <message>
        <source>Waiting for IT</source>
        <translation>情報システム担当の確認待ち</translation>
    </message>
    <message>
        <source>What happens next</source>
        <translation>この後の流れ</translation>
    </message>
    <message>
        <source>Secure Send finishes setting up by itself and opens once IT has processed this PC's request. You can close this window and start Secure Send again later: the request stays with IT.</source>
        <translation>情報システム担当がこのパソコンの登録申請を処理すると、セキュア送信は自動的に設定を完了して開きます。この画面を閉じて、後でセキュア送信を起動し直してもかまいません（申請は取り消されません）。</translation>
    </message>
    <message>
        <source>This device's identity code</source>
        <translation>この端末の識別コード</translation>
    </message>
    <message>
        <source>Connection problem</source>
        <translation>接続の問題</translation>
    </message>
    <message>
        <source>Close and wait later</source>
        <translation>閉じて後で待つ</translation>
    </message>
    <message>
        <source>Waiting for IT to approve this PC…</source>
        <translation>情報システム担当の承認を待っています…</translation>
    </message>
    <message>
        <source>Waiting for IT to confirm this PC…</source>
        <translation>情報システム担当の確認を待っています…</translation>
    </message>
    <message>
        <source>This device's identity code: %1</source>
        <translation>この端末の識別コード：%1</translation>
    </message>
</context>
<context>
    <name>EnrolWizard</name>
    <message>
        <source>Set up Secure Send</source>
        <translation>セキュア送信の設定</translation>
    </message>
    <message>
        <source>This file is not a valid organisation configuration. Ask IT for the correct file.</source>
        <translation>このファイルは有効な組織の設定ファイルではありません。正しいファイルを情報システム担当にお問い合わせください。</translation>
    </message>
</context>
<context>
    <name>ErrorDialog</name>
    <message>
        <source>Secure Send</source>
        <translation>セキュア送信</translation>
    </message>
    <message>
        <source>Copy contact information</source>
        <translation>問い合わせ情報をコピー</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>エラー</translation>
    </message>
</context>
<context>
    <name>FileList</name>
    <message>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>サイズ</translation>
    </message>
    <message>
        <source>Files to send</source>
        <translation>送信するファイル</translation>
    </message>
    <message>
        <source>Total size</source>
        <translation>合計サイズ</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>削除</translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation>%1 を削除</translation>
    </message>
    <message>
        <source>Remove this item from the send</source>
        <translation>この項目を送信対象から外します</translation>
    </message>
    <message numerus="yes">
        <source>%n item(s), %1 in total</source>
        <translation>
            <numerusform>%n 件、合計 %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Helpdesk</name>
    <message>
        <source>Version</source>
        <translation>バージョン</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>受け渡しサーバー</translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation>組織</translation>
    </message>
    <message>
        <source>Directory epoch</source>
        <translation>名簿の版番号</translation>
    </message>
    <message>
        <source>not loaded</source>
        <translation>未読み込み</translation>
    </message>
    <message>
        <source>Directory last verified</source>
        <translation>名簿の最終確認</translation>
    </message>
    <message>
        <source>not yet</source>
        <translation>まだありません</translation>
    </message>
    <message>
        <source>User ID</source>
        <translation>ユーザーID</translation>
    </message>
    <message>
        <source>Device ID</source>
        <translation>端末ID</translation>
    </message>
    <message>
        <source>Operating system</source>
        <translation>オペレーティングシステム</translation>
    </message>
    <message>
        <source>Runtime</source>
        <translation>実行環境</translation>
    </message>
    <message>
        <source>Key store</source>
        <translation>鍵の保管場所</translation>
    </message>
    <message>
        <source>test file store (not protected)</source>
        <translation>テスト用のファイル（保護されていません）</translation>
    </message>
    <message>
        <source>the operating system's key store</source>
        <translation>オペレーティングシステムの鍵保管機能</translation>
    </message>
    <message>
        <source>Profile folder</source>
        <translation>プロファイルフォルダー</translation>
    </message>
    <message>
        <source>Unfinished sends</source>
        <translation>未完了の送信</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
</context>
<context>
    <name>InboxFilter</name>
    <message>
        <source>Search sender, file name or message</source>
        <translation>差出人・ファイル名・メッセージで検索</translation>
    </message>
    <message>
        <source>Search received drops</source>
        <translation>受信した送付を検索</translation>
    </message>
    <message>
        <source>Filter by sender</source>
        <translation>差出人で絞り込み</translation>
    </message>
    <message>
        <source>All senders</source>
        <translation>すべての差出人</translation>
    </message>
    <message>
        <source>Filter by date</source>
        <translation>日付で絞り込み</translation>
    </message>
    <message>
        <source>All dates</source>
        <translation>すべての期間</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今日</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>過去7日間</translation>
    </message>
    <message>
        <source>Unsaved only</source>
        <translation>未保存のみ</translation>
    </message>
    <message>
        <source>Dangerous only</source>
        <translation>危険な送付のみ</translation>
    </message>
</context>
<context>
    <name>InboxPage</name>
    <message>
        <source>Why this drop cannot be saved</source>
        <translation>このファイルを保存できない理由</translation>
    </message>
    <message>
        <source>Save to &amp;Downloads</source>
        <translation>ダウンロードフォルダーに保存(&amp;D)</translation>
    </message>
    <message>
        <source>Save the selected drop to the download folder</source>
        <translation>選択したファイルをダウンロードフォルダーに保存します</translation>
    </message>
    <message>
        <source>Save &amp;to…</source>
        <translation>保存先を指定して保存(&amp;T)…</translation>
    </message>
    <message>
        <source>Choose a folder and save the selected drop there</source>
        <translation>フォルダーを選択して、選択したファイルを保存します</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>中止(&amp;C)</translation>
    </message>
    <message>
        <source>Stop saving</source>
        <translation>保存を中止します</translation>
    </message>
    <message>
        <source>&amp;Open folder</source>
        <translation>フォルダーを開く(&amp;O)</translation>
    </message>
    <message>
        <source>Open the folder the files were saved in</source>
        <translation>ファイルを保存したフォルダーを開きます</translation>
    </message>
    <message>
        <source>Saving progress</source>
        <translation>保存の進捗</translation>
    </message>
    <message>
        <source>Saving status</source>
        <translation>保存の状況</translation>
    </message>
    <message>
        <source>Saved files</source>
        <translation>保存したファイル</translation>
    </message>
    <message>
        <source>Verification</source>
        <translation>検証</translation>
    </message>
    <message>
        <source>From</source>
        <translation>差出人</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>所属</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>受信日時</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>有効期限</translation>
    </message>
    <message>
        <source>Saved</source>
        <translation>保存済み</translation>
    </message>
    <message>
        <source>Received drops</source>
        <translation>受信したファイル一覧</translation>
    </message>
    <message>
        <source>No drops received</source>
        <translation>受信した送付はありません</translation>
    </message>
    <message>
        <source>No drops match the filters</source>
        <translation>条件に合う送付はありません</translation>
    </message>
    <message>
        <source>⚠ Dangerous: directories do not match, do not open</source>
        <translation>⚠ 危険：職員名簿が一致しません（開かないでください）</translation>
    </message>
    <message>
        <source>The sender's staff directory differs from yours (a possible split view), so this drop may be forged and cannot be saved. Do not open it; tell IT security.</source>
        <translation>送信者の職員名簿があなたの職員名簿と一致しません（名簿が分断されている可能性があります）。偽装されている可能性があるため、このファイルは保存できません。開かずに情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>⚠ Dangerous: could not be checked, do not open</source>
        <translation>⚠ 危険：職員名簿を照合できません（開かないでください）</translation>
    </message>
    <message>
        <source>The sender's staff directory could not be checked against yours, so this drop cannot be saved. Do not open it; tell IT security.</source>
        <translation>送信者の職員名簿をあなたの職員名簿と照合できなかったため、このファイルは保存できません。開かずに情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>⚠ Dangerous: not approved, do not open</source>
        <translation>⚠ 危険：承認がありません。開かないでください</translation>
    </message>
    <message>
        <source>This drop needed a superior's approval and carries no valid one (the server may have released it early), so it cannot be saved. Do not open it; tell IT security.</source>
        <translation>この送付には上長の承認が必要ですが、有効な承認がありません（サーバーが承認前に渡した可能性があります）。保存できません。開かずに、情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>⚠ Dangerous: failed verification, do not open</source>
        <translation>⚠ 危険：検証に失敗しました（開かないでください）</translation>
    </message>
    <message>
        <source>(unverified sender)</source>
        <translation>（差出人を確認できません）</translation>
    </message>
    <message>
        <source>✓ Verified</source>
        <translation>✓ 検証済み</translation>
    </message>
    <message>
        <source>✓ Verified, awaiting your approval</source>
        <translation>✓ 検証済み（あなたの承認待ち）</translation>
    </message>
    <message>
        <source>Not saved</source>
        <translation>未保存</translation>
    </message>
    <message>
        <source>Programs that run when opened: %1. Do not open them unless you expected a program from this sender.</source>
        <translation>開くと実行されるプログラムが %1 件あります。この差出人からプログラムが届く予定がない場合は開かないでください。</translation>
    </message>
    <message>
        <source>⚠ These files were NOT scanned for viruses (%1). Tell IT before you open them.</source>
        <translation>⚠ これらのファイルはウイルス検査を受けていません（%1）。開く前に情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Inbox list status</source>
        <translation>受信一覧の状況</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>保存しています…</translation>
    </message>
    <message>
        <source>Save to folder</source>
        <translation>保存先フォルダーの選択</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>中止しています…</translation>
    </message>
    <message>
        <source>⚠ Program: %1</source>
        <translation>⚠ プログラム：%1</translation>
    </message>
    <message numerus="yes">
        <source>Saved %n file(s) to %1.</source>
        <translation>
            <numerusform>%n 件のファイルを %1 に保存しました。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>KeystoreWarningBanner</name>
    <message>
        <source>Security warning: test key store</source>
        <translation>セキュリティ警告：テスト用の鍵保管</translation>
    </message>
    <message>
        <source>⚠ Test mode: this PC's device keys are kept in a plain file (SECURE_SEND_TEST_KEYSTORE=1), not in the OS key store. For tests and the demo only; do not use it for real files.</source>
        <translation>⚠ テストモード：このパソコンの端末の鍵は OS の鍵保管（キーリング）ではなく、暗号化されていないファイルに保存されています（SECURE_SEND_TEST_KEYSTORE=1）。テストとデモ専用です。実際のファイルには使わないでください。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Secure Send</source>
        <translation>セキュア送信</translation>
    </message>
    <message>
        <source>Secure Send main window</source>
        <translation>セキュア送信 メインウィンドウ</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>ページ</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>送信(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Inbox</source>
        <translation>受信箱(&amp;I)</translation>
    </message>
    <message>
        <source>Se&amp;nt</source>
        <translation>送信済み(&amp;N)</translation>
    </message>
    <message>
        <source>Re&amp;quests</source>
        <translation>依頼(&amp;Q)</translation>
    </message>
    <message>
        <source>Awaitin&amp;g approval</source>
        <translation>承認待ち(&amp;G)</translation>
    </message>
    <message>
        <source>Directory status</source>
        <translation>名簿の状態</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>設定(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Unfinished sends…</source>
        <translation>未完了の送信(&amp;U)…</translation>
    </message>
    <message>
        <source>&amp;Refresh the directory now</source>
        <translation>名簿を今すぐ更新(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About Secure Send</source>
        <translation>セキュア送信について(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Diagnostics…</source>
        <translation>診断情報(&amp;D)…</translation>
    </message>
    <message>
        <source>Secure Send — %1 (%2)</source>
        <translation>セキュア送信 — %1（%2）</translation>
    </message>
    <message numerus="yes">
        <source>✓ Verified directory: %n entries</source>
        <translation>
            <numerusform>✓ 検証済みの名簿：%n 件</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MyNumberGate</name>
    <message>
        <source>Checking the files for My Numbers…</source>
        <translation>ファイルに個人番号（マイナンバー）が含まれていないか確認しています…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Checking files</source>
        <translation>ファイルの確認</translation>
    </message>
</context>
<context>
    <name>MyNumberNotes</name>
    <message numerus="yes">
        <source>%1: %n number(s) have the form of a My Number, but no heading or nearby word says so. Check that none of them is a My Number.</source>
        <translation>
            <numerusform>%1：個人番号と同じ形式の数字が %n 件あります（見出しや近くの語からは個人番号と判断していません）。個人番号が含まれていないか確認してください。</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 could not be checked for My Numbers (it is password-protected, damaged or too large). Check it yourself before sending.</source>
        <translation>%1 は個人番号の確認ができませんでした（パスワード付き・破損・大きすぎるなど）。送る前にご自身で確認してください。</translation>
    </message>
    <message>
        <source>This send cannot go: the files contain My Numbers.</source>
        <translation>この送信はできません。ファイルに個人番号（マイナンバー）が含まれています。</translation>
    </message>
    <message numerus="yes">
        <source>and %n more file(s)</source>
        <translation>
            <numerusform>ほか %n ファイル</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Files with My Numbers go at Confidentiality 3 and are available for at most %n day(s). Every recipient is designated to handle them.</source>
        <translation>
            <numerusform>個人番号を含むため、機密性3、最長 %n 日間で送ります。宛先はすべて個人番号取扱者に指定されています。</numerusform>
        </translation>
    </message>
    <message>
        <source>My Numbers may be sent only to recipients designated to handle them (個人番号取扱). Not designated: %1.</source>
        <translation>個人番号は、個人番号取扱者に指定された宛先にしか送れません。指定されていない宛先：%1。</translation>
    </message>
    <message>
        <source>Remove them, or send to a designated role mailbox such as %1. If they must receive these files, ask IT to designate them.</source>
        <translation>この宛先を外すか、%1 などの指定された窓口に送ってください。この宛先が受け取る必要がある場合は、情報システム担当に指定を依頼してください。</translation>
    </message>
    <message>
        <source>Remove them. If they must receive these files, ask IT to designate them.</source>
        <translation>この宛先を外してください。受け取る必要がある場合は、情報システム担当に指定を依頼してください。</translation>
    </message>
    <message>
        <source>%1: could not be checked</source>
        <translation>%1：確認できませんでした</translation>
    </message>
    <message numerus="yes">
        <source>%1: %n My Number(s) (%2)</source>
        <translation>
            <numerusform>%1：個人番号 %n 件（%2）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1: %n My Number(s)</source>
        <translation>
            <numerusform>%1：個人番号 %n 件</numerusform>
        </translation>
    </message>
    <message>
        <source>row %1</source>
        <translation>%1 行目</translation>
    </message>
    <message>
        <source>column %1</source>
        <translation>%1 列目</translation>
    </message>
    <message>
        <source>line %1</source>
        <translation>%1 行目</translation>
    </message>
    <message>
        <source>page %1</source>
        <translation>%1 ページ</translation>
    </message>
</context>
<context>
    <name>OrganisationPage</name>
    <message>
        <source>Welcome to Secure Send</source>
        <translation>セキュア送信へようこそ</translation>
    </message>
    <message>
        <source>This sets up this PC so you can send and receive files securely. You need the one-time code your IT department gave you.</source>
        <translation>このパソコンでファイルを安全に送受信できるよう設定します。情報システム担当から受け取ったワンタイムコードをご用意ください。</translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation>組織</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>サーバーのアドレス</translation>
    </message>
    <message>
        <source>&amp;Load configuration file…</source>
        <translation>設定ファイルを読み込む(&amp;L)…</translation>
    </message>
    <message>
        <source>Load the organisation configuration file</source>
        <translation>組織の設定ファイルを読み込む</translation>
    </message>
    <message>
        <source>The configuration file your IT department gave you</source>
        <translation>情報システム担当から受け取った設定ファイル</translation>
    </message>
    <message>
        <source>Configuration problem</source>
        <translation>設定の問題</translation>
    </message>
    <message>
        <source>Organisation:</source>
        <translation>組織：</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>サーバー：</translation>
    </message>
    <message>
        <source>(not configured: load the file IT gave you)</source>
        <translation>（未設定：情報システム担当から受け取ったファイルを読み込んでください）</translation>
    </message>
    <message>
        <source>Organisation configuration file</source>
        <translation>組織の設定ファイル</translation>
    </message>
    <message>
        <source>Configuration files (*.json);;All files (*)</source>
        <translation>設定ファイル (*.json);;すべてのファイル (*)</translation>
    </message>
</context>
<context>
    <name>OwnDeviceList</name>
    <message>
        <source>Files sent to you can be opened on every active device below. If you see one you do not know, report it to IT security.</source>
        <translation>あなた宛てのファイルは、下の有効な端末のすべてで開くことができます。見覚えのない端末があれば、情報セキュリティ担当に報告してください。</translation>
    </message>
    <message>
        <source>Devices of your account</source>
        <translation>あなたのアカウントの端末</translation>
    </message>
    <message>
        <source>Device name</source>
        <translation>端末名</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>Enrolled on</source>
        <translation>登録日</translation>
    </message>
    <message>
        <source>&amp;I enrolled this device</source>
        <translation>これは自分が登録した端末です(&amp;I)</translation>
    </message>
    <message>
        <source>I enrolled this device myself</source>
        <translation>これは自分が登録した端末です</translation>
    </message>
    <message>
        <source>Only for a device you set up yourself, e.g. your second PC</source>
        <translation>ご自身で設定した端末（2台目のパソコンなど）の場合だけ押してください</translation>
    </message>
    <message>
        <source>Device problem</source>
        <translation>端末の問題</translation>
    </message>
    <message>
        <source>Revoked (%1)</source>
        <translation>取り消し済み（%1）</translation>
    </message>
    <message>
        <source>This PC</source>
        <translation>このパソコン</translation>
    </message>
    <message>
        <source>Confirmed by you</source>
        <translation>確認済み</translation>
    </message>
    <message>
        <source>⚠ Unknown: report to IT security if not yours</source>
        <translation>⚠ 不明：心当たりがなければ情報セキュリティ担当へ報告</translation>
    </message>
    <message>
        <source>Confirm your device</source>
        <translation>端末の確認</translation>
    </message>
    <message>
        <source>Did you enrol “%1” (%2, %3) yourself?</source>
        <translation>「%1」（%2、%3）は、ご自身で登録した端末ですか？</translation>
    </message>
    <message>
        <source>Confirm only if you set up Secure Send on that device yourself. Files sent to you will go on being encrypted to it, and the warning goes away. If you are not sure, choose No and report it to IT security.</source>
        <translation>ご自身でその端末にセキュア送信を設定した場合にだけ「はい」を選んでください。以後もあなた宛てのファイルはその端末で開けるように暗号化され、警告は表示されなくなります。確信がなければ「いいえ」を選び、情報セキュリティ担当に報告してください。</translation>
    </message>
    <message>
        <source>Yes, I enrolled it</source>
        <translation>はい、自分で登録しました</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <source>&amp;Look in:</source>
        <translation>場所(&amp;L)：</translation>
    </message>
    <message>
        <source>Files of &amp;type:</source>
        <translation>ファイルの種類(&amp;T)：</translation>
    </message>
</context>
<context>
    <name>RecipientPicker</name>
    <message>
        <source>[Departed]</source>
        <translation>【退職】</translation>
    </message>
    <message>
        <source>Has left the organisation, so it cannot be sent to.</source>
        <translation>退職済みのため送れません。</translation>
    </message>
    <message>
        <source>No registered device, so it cannot be sent to. Ask them to register one.</source>
        <translation>端末が未登録のため送れません。本人に登録を依頼してください。</translation>
    </message>
    <message>
        <source>[Not enrolled]</source>
        <translation>【未登録】</translation>
    </message>
    <message>
        <source>None of the members of this role mailbox (besides you) has a registered device, so it cannot be sent to.</source>
        <translation>この窓口の担当者（あなたを除く）は誰も端末を登録していないため送れません。</translation>
    </message>
    <message>
        <source>%1 of %2 members have no registered device and will not receive the files.</source>
        <translation>担当者 %2 名のうち %1 名は端末が未登録のため受け取れません。</translation>
    </message>
    <message>
        <source>[Role mailbox]</source>
        <translation>[共用窓口]</translation>
    </message>
    <message>
        <source>%1 members</source>
        <translation>メンバー %1 名</translation>
    </message>
    <message>
        <source>⚠ Similar name: %1 (%2, %3)</source>
        <translation>⚠ 似た名前：%1（%2、%3）</translation>
    </message>
    <message>
        <source>⚠ … and %1 more with a similar name</source>
        <translation>⚠ ほかにも似た名前が %1 名います</translation>
    </message>
    <message>
        <source>Search by name, reading, department or email</source>
        <translation>氏名・よみがな・所属・メールアドレスで検索</translation>
    </message>
    <message>
        <source>Search recipients</source>
        <translation>宛先を検索</translation>
    </message>
    <message>
        <source>Only people in the verified staff directory can be added</source>
        <translation>検証済みの職員名簿に登録されている宛先のみ追加できます</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>検索結果</translation>
    </message>
    <message>
        <source>Search status</source>
        <translation>検索の状態</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>追加(&amp;A)</translation>
    </message>
    <message>
        <source>Add the selected person</source>
        <translation>選択した宛先を追加</translation>
    </message>
    <message>
        <source>Chosen recipients</source>
        <translation>選択した宛先</translation>
    </message>
    <message>
        <source>Remo&amp;ve recipient</source>
        <translation>宛先を削除（&amp;V）</translation>
    </message>
    <message>
        <source>Remove the selected recipient</source>
        <translation>選択した宛先を削除</translation>
    </message>
    <message>
        <source>&amp;To:</source>
        <translation>宛先(&amp;T)：</translation>
    </message>
    <message>
        <source>Recipients:</source>
        <translation>宛先：</translation>
    </message>
    <message>
        <source>No match — addresses outside the organisation cannot be used</source>
        <translation>該当なし — 庁外のアドレスには送れません</translation>
    </message>
    <message>
        <source>No match</source>
        <translation>該当なし</translation>
    </message>
</context>
<context>
    <name>RejectReasonDialog</name>
    <message>
        <source>Return to the sender</source>
        <translation>送信者に差し戻す</translation>
    </message>
    <message>
        <source>Return this send to %1. It will not be delivered.</source>
        <translation>この送信を%1に差し戻します。受信者には届きません。</translation>
    </message>
    <message>
        <source>Reason for returning</source>
        <translation>差し戻しの理由</translation>
    </message>
    <message>
        <source>The reason goes to the sender and is stored on the server. Do not write personal information.</source>
        <translation>理由は送信者に届き、サーバーに保存されます。個人情報は書かないでください。</translation>
    </message>
    <message>
        <source>Characters left</source>
        <translation>残りの文字数</translation>
    </message>
    <message>
        <source>&amp;Return</source>
        <translation>差し戻す(&amp;R)</translation>
    </message>
    <message>
        <source>Return to the sender now</source>
        <translation>今すぐ送信者に差し戻す</translation>
    </message>
    <message>
        <source>Reason:</source>
        <translation>理由：</translation>
    </message>
    <message numerus="yes">
        <source>%n character(s) left</source>
        <translation>
            <numerusform>あと %n 文字</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n character(s) too many</source>
        <translation>
            <numerusform>%n 文字多すぎます</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>RequestDesk</name>
    <message>
        <source>Counts</source>
        <translation>件数</translation>
    </message>
    <message>
        <source>Name, reading, ID or department</source>
        <translation>氏名、フリガナ、ID、部署</translation>
    </message>
    <message>
        <source>Search addressees</source>
        <translation>依頼先を検索</translation>
    </message>
    <message>
        <source>Fin&amp;d:</source>
        <translation>検索(&amp;D)：</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>表示</translation>
    </message>
    <message>
        <source>Everyone</source>
        <translation>全員</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>提出済み</translation>
    </message>
    <message>
        <source>Not submitted</source>
        <translation>未提出</translation>
    </message>
    <message>
        <source>Late</source>
        <translation>期限超過</translation>
    </message>
    <message>
        <source>Sta&amp;te:</source>
        <translation>状態(&amp;T)：</translation>
    </message>
    <message>
        <source>Addressees</source>
        <translation>依頼先</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>CSV に書き出す(&amp;X)…</translation>
    </message>
    <message>
        <source>IDs, names, departments and times</source>
        <translation>ID・氏名・部署・提出日時（ファイル名は含みません）</translation>
    </message>
    <message>
        <source>&amp;Remind those not submitted…</source>
        <translation>未提出者に催促(&amp;R)…</translation>
    </message>
    <message>
        <source>Send a reminder to everyone who has not submitted</source>
        <translation>未提出の全員に催促を送ります</translation>
    </message>
    <message>
        <source>Save &amp;all…</source>
        <translation>すべて保存(&amp;A)…</translation>
    </message>
    <message>
        <source>Save every submission, one folder per person</source>
        <translation>すべての提出を一人一つのフォルダーに保存します</translation>
    </message>
    <message>
        <source>&amp;Back</source>
        <translation>戻る(&amp;B)</translation>
    </message>
    <message>
        <source>Saving all</source>
        <translation>すべて保存中</translation>
    </message>
    <message>
        <source>(title not readable here)</source>
        <translation>（この端末では件名を読めません）</translation>
    </message>
    <message>
        <source>%1 (due %2)</source>
        <translation>%1（提出期限：%2）</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>読み込み中…</translation>
    </message>
    <message>
        <source>Submitted %1 / Not submitted %2 / Late %3</source>
        <translation>提出済み %1　未提出 %2　期限超過 %3</translation>
    </message>
    <message>
        <source>Export the status as CSV</source>
        <translation>提出状況を CSV に書き出す</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV ファイル (*.csv)</translation>
    </message>
    <message>
        <source>Exported to %1</source>
        <translation>%1 に書き出しました</translation>
    </message>
    <message>
        <source>Remind</source>
        <translation>催促</translation>
    </message>
    <message>
        <source>Send a reminder to the %1 people who have not submitted?</source>
        <translation>未提出の %1 人に催促を送りますか？</translation>
    </message>
    <message>
        <source>Reminded %1 people</source>
        <translation>%1 人に催促しました</translation>
    </message>
    <message>
        <source>Save all submissions to</source>
        <translation>すべての提出の保存先</translation>
    </message>
    <message>
        <source>Save all</source>
        <translation>すべて保存</translation>
    </message>
    <message>
        <source>Saved: %1
Already saved: %2
Failed: %3</source>
        <translation>保存：%1 件
保存済み：%2 件
失敗：%3 件</translation>
    </message>
    <message>
        <source>⚠ %1 of the saved submissions were NOT scanned for viruses (%2). Tell IT before you open them.</source>
        <translation>⚠ 保存した提出のうち %1 件はウイルス検査を受けていません（%2）。開く前に情報システム担当に連絡してください。</translation>
    </message>
</context>
<context>
    <name>RequestList</name>
    <message>
        <source>Your desk</source>
        <translation>自分の窓口</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>提出済み</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>期限超過</translation>
    </message>
    <message>
        <source>Reminded</source>
        <translation>催促あり</translation>
    </message>
    <message>
        <source>Not submitted</source>
        <translation>未提出</translation>
    </message>
    <message>
        <source>No due date</source>
        <translation>期限なし</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>件名</translation>
    </message>
    <message>
        <source>Requested by</source>
        <translation>依頼元</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>提出期限</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>File requests</source>
        <translation>提出依頼</translation>
    </message>
    <message>
        <source>(title not readable here)</source>
        <translation>（この端末では件名を読めません）</translation>
    </message>
    <message>
        <source>⚠ Dangerous request: do not submit</source>
        <translation>⚠ 危険な依頼：提出しないでください</translation>
    </message>
    <message>
        <source>Dangerous</source>
        <translation>危険</translation>
    </message>
</context>
<context>
    <name>RequestTable</name>
    <message>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <source>Reading</source>
        <translation>フリガナ</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>所属</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>Submitted at</source>
        <translation>提出日時</translation>
    </message>
    <message>
        <source>Not submitted</source>
        <translation>未提出</translation>
    </message>
    <message>
        <source>Late</source>
        <translation>期限超過</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>提出済み</translation>
    </message>
    <message>
        <source>(resubmitted, %1 times)</source>
        <translation>（再提出、計 %1 回）</translation>
    </message>
</context>
<context>
    <name>RequestsPage</name>
    <message>
        <source>File requests</source>
        <translation>提出依頼</translation>
    </message>
    <message>
        <source>Drop files on a request to submit them. No recipient to choose.</source>
        <translation>依頼の上にファイルをドロップすると提出できます。宛先を選ぶ必要はありません。</translation>
    </message>
    <message>
        <source>Why this request is dangerous</source>
        <translation>この依頼が危険な理由</translation>
    </message>
    <message>
        <source>S&amp;ubmit files…</source>
        <translation>提出(&amp;U)…</translation>
    </message>
    <message>
        <source>Choose files to submit to this request</source>
        <translation>この依頼に提出するファイルを選びます</translation>
    </message>
    <message>
        <source>&amp;Track submissions…</source>
        <translation>提出状況(&amp;T)…</translation>
    </message>
    <message>
        <source>Who has submitted, who has not</source>
        <translation>提出した人と未提出の人</translation>
    </message>
    <message>
        <source>&amp;Create a request…</source>
        <translation>依頼を作成(&amp;C)…</translation>
    </message>
    <message>
        <source>Ask people to submit files to you</source>
        <translation>ファイルの提出を依頼します</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>結果</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>詳細</translation>
    </message>
    <message>
        <source>&amp;Back to the requests</source>
        <translation>依頼一覧に戻る(&amp;B)</translation>
    </message>
    <message>
        <source>Choose files to submit</source>
        <translation>提出するファイルを選択</translation>
    </message>
    <message>
        <source>Encrypting…</source>
        <translation>暗号化しています…</translation>
    </message>
    <message>
        <source>File %1</source>
        <translation>ファイル %1</translation>
    </message>
    <message numerus="yes">
        <source>Submitted: %n file(s)</source>
        <translation>
            <numerusform>提出しました：ファイル %n 件</numerusform>
        </translation>
    </message>
    <message>
        <source>Drop ID: %1</source>
        <translation>送信ID：%1</translation>
    </message>
    <message>
        <source>The submission is kept: finish it with File → Unfinished sends.</source>
        <translation>この提出は保存されています。「ファイル」→「未完了の送信」から完了できます。</translation>
    </message>
    <message>
        <source>The file request was created.</source>
        <translation>提出依頼を作成しました。</translation>
    </message>
</context>
<context>
    <name>SendPage</name>
    <message>
        <source>S&amp;end…</source>
        <translation>送信(&amp;E)…</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>送信</translation>
    </message>
    <message>
        <source>Check the details, then send</source>
        <translation>内容を確認してから送信します</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>問題</translation>
    </message>
    <message>
        <source> days</source>
        <translation> 日</translation>
    </message>
    <message>
        <source>Days until the files expire</source>
        <translation>ダウンロード期限（日数）</translation>
    </message>
    <message>
        <source>Classification</source>
        <translation>機密性区分</translation>
    </message>
    <message>
        <source>Message to the recipients</source>
        <translation>宛先へのメッセージ</translation>
    </message>
    <message>
        <source>Optional message</source>
        <translation>メッセージ（任意）</translation>
    </message>
    <message>
        <source>E&amp;xpires after:</source>
        <translation>ダウンロード期限(&amp;X)：</translation>
    </message>
    <message>
        <source>C&amp;lassification:</source>
        <translation>機密性区分(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Message:</source>
        <translation>メッセージ(&amp;M)：</translation>
    </message>
    <message>
        <source>Copy contact information for IT</source>
        <translation>情報システム担当への問い合わせ情報をコピー</translation>
    </message>
    <message>
        <source>This drop is not finished: continue it, or discard it.</source>
        <translation>この送付は終わっていません。再開するか、破棄してください。</translation>
    </message>
    <message>
        <source>The drop was discarded. Nothing was delivered.</source>
        <translation>送付を破棄しました。何も届いていません。</translation>
    </message>
    <message>
        <source>The drop could not be discarded.</source>
        <translation>送付を破棄できませんでした。</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>結果</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>詳細</translation>
    </message>
    <message>
        <source>Send &amp;more</source>
        <translation>続けて送信(&amp;M)</translation>
    </message>
    <message>
        <source>Send more files</source>
        <translation>続けてファイルを送信</translation>
    </message>
    <message>
        <source>&amp;Back</source>
        <translation>戻る(&amp;B)</translation>
    </message>
    <message>
        <source>Back to the send form</source>
        <translation>送信画面に戻る</translation>
    </message>
    <message>
        <source>C&amp;ontinue sending</source>
        <translation>再開(&amp;O)</translation>
    </message>
    <message>
        <source>Continue this drop</source>
        <translation>この送付を再開</translation>
    </message>
    <message>
        <source>Send the rest of this drop (the same drop)</source>
        <translation>この送付の残りを送ります（同じ送付のまま続けます）</translation>
    </message>
    <message>
        <source>&amp;Discard</source>
        <translation>破棄(&amp;D)</translation>
    </message>
    <message>
        <source>Discard this drop</source>
        <translation>この送付を破棄</translation>
    </message>
    <message>
        <source>Delete this drop: nothing is delivered</source>
        <translation>この送付を削除します。何も届きません</translation>
    </message>
    <message>
        <source>Encrypting…</source>
        <translation>暗号化しています…</translation>
    </message>
    <message numerus="yes">
        <source>Sent to %1: %n file(s)</source>
        <translation>
            <numerusform>%1 に %n 件のファイルを送信しました</numerusform>
        </translation>
    </message>
    <message>
        <source>Drop ID: %1</source>
        <translation>送信ID：%1</translation>
    </message>
    <message>
        <source>Sending was stopped. Nothing has been delivered yet.</source>
        <translation>送信を中止しました。まだ何も届いていません。</translation>
    </message>
    <message>
        <source>Sending was cancelled. Nothing was delivered.</source>
        <translation>送信を中止しました。何も届いていません。</translation>
    </message>
</context>
<context>
    <name>SendProgress</name>
    <message>
        <source>Sending…</source>
        <translation>送信しています…</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>接続</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>中止(&amp;C)</translation>
    </message>
    <message>
        <source>Cancel sending</source>
        <translation>送信を中止</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>中止しています…</translation>
    </message>
    <message>
        <source>The connection seems unstable: nothing could be sent for %1 seconds. Sending goes on by itself.</source>
        <translation>接続が不安定です。%1 秒間データを送れていません。送信は自動で続きます。</translation>
    </message>
    <message>
        <source>Connection lost. Retrying… (attempt %1, next in %2 seconds)</source>
        <translation>接続を再試行中…（%1 回目、次は %2 秒後）</translation>
    </message>
    <message>
        <source>Connection lost. Retrying… (attempt %1)</source>
        <translation>接続を再試行中…（%1 回目）</translation>
    </message>
</context>
<context>
    <name>SentPage</name>
    <message>
        <source>Sent / recipient</source>
        <translation>送信日時 / 受信者</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>有効期限</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>受信状況</translation>
    </message>
    <message>
        <source>Sent drops and their recipients</source>
        <translation>送信済みファイルと受信者</translation>
    </message>
    <message>
        <source>&amp;Recall…</source>
        <translation>送信取り消し(&amp;R)…</translation>
    </message>
    <message>
        <source>Withdraw the selected drop so that nobody can download it any more</source>
        <translation>選択した送信を取り消し、以後だれもダウンロードできないようにします</translation>
    </message>
    <message>
        <source>Reload the sent drops and receipts</source>
        <translation>送信済みファイルと受信確認を再読み込みします</translation>
    </message>
    <message>
        <source>Sent status</source>
        <translation>送信済みの状況</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>送信済み</translation>
    </message>
    <message>
        <source>Recalled</source>
        <translation>取り消し済み</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>期限切れ</translation>
    </message>
    <message>
        <source>Uploading</source>
        <translation>アップロード中</translation>
    </message>
    <message>
        <source>R&amp;efresh</source>
        <translation>最新の情報に更新(&amp;E)</translation>
    </message>
    <message>
        <source>Approval of the selected drop</source>
        <translation>選択した送信の承認</translation>
    </message>
    <message>
        <source>⚠ Unreadable on the server (tell IT)</source>
        <translation>⚠ サーバー上で読み取れません（情報システム担当に連絡してください）</translation>
    </message>
    <message>
        <source>1 day</source>
        <translation>1日</translation>
    </message>
    <message>
        <source>%1 days</source>
        <translation>%1日</translation>
    </message>
    <message>
        <source>%1 minutes</source>
        <translation>%1分</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>残り %1</translation>
    </message>
    <message>
        <source>1 hour</source>
        <translation>1時間</translation>
    </message>
    <message>
        <source>%1 hours</source>
        <translation>%1時間</translation>
    </message>
    <message>
        <source>%1 of %2 downloaded</source>
        <translation>%2 名中 %1 名が受信済み</translation>
    </message>
    <message>
        <source>Sent %1</source>
        <translation>%1 送信</translation>
    </message>
    <message>
        <source>Expires %1</source>
        <translation>有効期限 %1</translation>
    </message>
    <message>
        <source>Awaiting approval</source>
        <translation>承認待ち</translation>
    </message>
    <message>
        <source>Returned</source>
        <translation>差し戻し</translation>
    </message>
    <message>
        <source>Approval: %1</source>
        <translation>承認：%1</translation>
    </message>
    <message>
        <source>No registered device: not sent</source>
        <translation>端末未登録のため届いていません</translation>
    </message>
    <message>
        <source>⚠ Receipt not trusted: your staff directories do not match (split view?). Tell IT security.</source>
        <translation>⚠ 受領通知は信頼できません：職員名簿が一致しません（名簿の分断の可能性）。情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>⚠ Receipt could not be checked against your staff directory. Tell IT security.</source>
        <translation>⚠ 受領通知をあなたの職員名簿と照合できません。情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>✓ Downloaded at %1</source>
        <translation>✓ %1 に受信済み</translation>
    </message>
    <message>
        <source>Not yet downloaded</source>
        <translation>未受信</translation>
    </message>
    <message>
        <source>Recall drop</source>
        <translation>送信の取り消し</translation>
    </message>
    <message>
        <source>Recalling…</source>
        <translation>取り消しています…</translation>
    </message>
    <message>
        <source>Recall this drop?</source>
        <translation>次の送付を取り消しますか？</translation>
    </message>
    <message>
        <source>Files:</source>
        <translation>ファイル：</translation>
    </message>
    <message>
        <source>Recipients:</source>
        <translation>宛先：</translation>
    </message>
    <message>
        <source>(the file names could not be loaded)</source>
        <translation>（ファイル名を読み込めませんでした）</translation>
    </message>
    <message>
        <source>Sent: %1</source>
        <translation>送信日時：%1</translation>
    </message>
    <message>
        <source>Recipients who have not downloaded it yet will no longer be able to. Files already downloaded cannot be taken back.</source>
        <translation>まだダウンロードしていない受信者はダウンロードできなくなります。ダウンロード済みのファイルは取り消せません。</translation>
    </message>
    <message>
        <source>The drop was recalled.</source>
        <translation>送信を取り消しました。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <source>🔒 Greyed-out settings are set by your IT department and cannot be changed here.</source>
        <translation>🔒 灰色で表示されている項目は情報システム担当が設定しているため、ここでは変更できません。</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>設定のページ</translation>
    </message>
    <message>
        <source>&amp;General</source>
        <translation>一般(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation>端末(&amp;D)</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>システムの既定</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>表示言語</translation>
    </message>
    <message>
        <source>The language of the app's windows</source>
        <translation>アプリの画面に表示する言語</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>表示言語(&amp;L)：</translation>
    </message>
    <message>
        <source>A language change applies after restarting the app.</source>
        <translation>表示言語の変更は、アプリの再起動後に反映されます。</translation>
    </message>
    <message>
        <source>&amp;Keep running in the tray when the window is closed</source>
        <translation>ウィンドウを閉じてもタスクトレイで実行を続ける(&amp;K)</translation>
    </message>
    <message>
        <source>Keep running in the tray when the window is closed</source>
        <translation>ウィンドウを閉じてもタスクトレイで実行を続ける</translation>
    </message>
    <message>
        <source>Download folder</source>
        <translation>保存先フォルダー</translation>
    </message>
    <message>
        <source>&amp;Choose…</source>
        <translation>選択(&amp;C)…</translation>
    </message>
    <message>
        <source>Choose download folder</source>
        <translation>保存先フォルダーの選択</translation>
    </message>
    <message>
        <source>Choose where received files are saved</source>
        <translation>受信したファイルの保存先を選択します</translation>
    </message>
    <message>
        <source>Use Do&amp;wnloads</source>
        <translation>「ダウンロード」を使用（&amp;W）</translation>
    </message>
    <message>
        <source>Use the Downloads folder</source>
        <translation>「ダウンロード」フォルダーを使用</translation>
    </message>
    <message>
        <source>Download &amp;folder:</source>
        <translation>保存先フォルダー(&amp;F)：</translation>
    </message>
    <message>
        <source>Show &amp;notifications for new files, receipts and failures</source>
        <translation>新着ファイル、受領通知、エラーを通知する(&amp;N)</translation>
    </message>
    <message>
        <source>Notifications</source>
        <translation>通知</translation>
    </message>
    <message>
        <source>Locked by your IT department</source>
        <translation>情報システム担当により固定されています</translation>
    </message>
    <message>
        <source>Downloads (%1)</source>
        <translation>ダウンロード（%1）</translation>
    </message>
</context>
<context>
    <name>Suite</name>
    <message>
        <source>age (ChaCha20-Poly1305, X25519)</source>
        <translation>age（ChaCha20-Poly1305、X25519）</translation>
    </message>
    <message>
        <source>CRYPTREC (AES-256-GCM, ECDH P-256)</source>
        <translation>CRYPTREC（AES-256-GCM、ECDH P-256）</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>Secure Send</source>
        <translation>セキュア送信</translation>
    </message>
    <message>
        <source>Secure Send tray menu</source>
        <translation>セキュア送信の通知領域メニュー</translation>
    </message>
    <message>
        <source>&amp;Open Secure Send</source>
        <translation>セキュア送信を開く(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <source>%1 asks for your approval of a send</source>
        <translation>%1から送信の承認依頼があります</translation>
    </message>
    <message>
        <source>Approval requested</source>
        <translation>承認の依頼</translation>
    </message>
    <message>
        <source>New files from %1</source>
        <translation>%1 さんからファイルが届きました</translation>
    </message>
    <message>
        <source>New files</source>
        <translation>新着ファイル</translation>
    </message>
    <message>
        <source>A drop failed verification and may be forged. Do not open it.</source>
        <translation>検証に失敗したファイルが届きました。偽装されている可能性があります。開かないでください。</translation>
    </message>
    <message>
        <source>Dangerous drop</source>
        <translation>危険なファイル</translation>
    </message>
    <message>
        <source>%1 downloaded your files</source>
        <translation>%1 さんがファイルを受信しました</translation>
    </message>
    <message>
        <source>Files downloaded</source>
        <translation>受信確認</translation>
    </message>
    <message>
        <source>“%1” was added to your account on %2. If it is not yours, report it to IT security.</source>
        <translation>端末「%1」が %2 にあなたのアカウントへ追加されました。心当たりがなければ、情報セキュリティ担当に報告してください。</translation>
    </message>
    <message>
        <source>Unknown device on your account</source>
        <translation>アカウントに不明な端末</translation>
    </message>
    <message>
        <source>New file request</source>
        <translation>新しい提出依頼</translation>
    </message>
    <message>
        <source>%1 asks you for files</source>
        <translation>%1から提出の依頼があります</translation>
    </message>
    <message>
        <source>%1 reminds you to submit your files</source>
        <translation>%1から提出の催促があります</translation>
    </message>
    <message>
        <source>File request reminder</source>
        <translation>提出の催促</translation>
    </message>
    <message>
        <source>Secure Send problem</source>
        <translation>セキュア送信のエラー</translation>
    </message>
</context>
<context>
    <name>UnfinishedRow</name>
    <message>
        <source>Unfinished drop %1</source>
        <translation>未完了の送付 %1</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>進捗</translation>
    </message>
    <message>
        <source>&amp;Finish sending</source>
        <translation>送信を完了(&amp;F)</translation>
    </message>
    <message>
        <source>Finish sending this drop</source>
        <translation>この送付の送信を完了</translation>
    </message>
    <message>
        <source>&amp;Discard</source>
        <translation>破棄(&amp;D)</translation>
    </message>
    <message>
        <source>Discard this drop</source>
        <translation>この送付を破棄</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>(file names unavailable)</source>
        <translation>（ファイル名を表示できません）</translation>
    </message>
    <message>
        <source>Started: %1</source>
        <translation>開始：%1</translation>
    </message>
    <message>
        <source>To: %1</source>
        <translation>宛先：%1</translation>
    </message>
    <message>
        <source>Files: %1</source>
        <translation>ファイル：%1</translation>
    </message>
    <message>
        <source>Size: %1</source>
        <translation>サイズ：%1</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>送信しています…</translation>
    </message>
    <message>
        <source>Discarding…</source>
        <translation>破棄しています…</translation>
    </message>
    <message>
        <source>Connection lost. Retrying… (attempt %1, next in %2 seconds)</source>
        <translation>接続を再試行中…（%1 回目、次は %2 秒後）</translation>
    </message>
    <message>
        <source>Sent. Drop ID: %1</source>
        <translation>送信しました。送付番号：%1</translation>
    </message>
    <message>
        <source>Discarded. Nothing was delivered.</source>
        <translation>破棄しました。何も届いていません。</translation>
    </message>
</context>
<context>
    <name>UnfinishedSends</name>
    <message>
        <source>Discard</source>
        <translation>破棄</translation>
    </message>
    <message>
        <source>Discard this drop? Nothing of it will be delivered.</source>
        <translation>この送付を破棄しますか？何も届きません。</translation>
    </message>
    <message>
        <source>&amp;Discard</source>
        <translation>破棄(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Keep</source>
        <translation>残す(&amp;K)</translation>
    </message>
</context>
<context>
    <name>UnfinishedSendsDialog</name>
    <message>
        <source>Unfinished sends</source>
        <translation>未完了の送信</translation>
    </message>
    <message numerus="yes">
        <source>%n send(s) started earlier did not finish. Nothing of them has been delivered yet. Finish or discard each.</source>
        <translation>
            <numerusform>以前に始めた送信のうち %n 件が終わっていません。まだ何も届いていません。それぞれ送信を完了するか、破棄してください。</numerusform>
        </translation>
    </message>
    <message>
        <source>There are no unfinished sends.</source>
        <translation>未完了の送信はありません。</translation>
    </message>
    <message>
        <source>Sends that cannot be resumed</source>
        <translation>再開できない送信</translation>
    </message>
    <message numerus="yes">
        <source>%n unfinished send(s) could not be read.</source>
        <translation>
            <numerusform>未完了の送信 %n 件を読み取れませんでした。</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>閉じる(&amp;C)</translation>
    </message>
</context>
<context>
    <name>UnknownDeviceBanner</name>
    <message>
        <source>Security warning: unknown device</source>
        <translation>セキュリティ警告：不明な端末</translation>
    </message>
    <message>
        <source>Unknown device warning</source>
        <translation>不明な端末の警告</translation>
    </message>
    <message>
        <source>Revie&amp;w devices…</source>
        <translation>端末を確認（&amp;W）…</translation>
    </message>
    <message>
        <source>Review the devices of your account</source>
        <translation>アカウントの端末を確認する</translation>
    </message>
    <message>
        <source>Opens the list of your account's devices</source>
        <translation>あなたのアカウントの端末一覧を開きます</translation>
    </message>
    <message>
        <source>⚠ An encryption key this PC did not make was added to this PC in the directory (“%1”, %2). Files sent to you in the CRYPTREC suite could be opened by whoever holds it. Report it to IT security at once.</source>
        <translation>⚠ このパソコンが作っていない暗号鍵が、名簿上でこのパソコン（「%1」、%2）に追加されました。CRYPTREC 方式であなたに送られるファイルは、その鍵を持つ者に開かれるおそれがあります。直ちに情報セキュリティ担当に報告してください。</translation>
    </message>
    <message>
        <source>⚠ A device this PC did not enrol was added to your account: “%1” (%2), on %3. If it is not yours, report it to IT security at once: files sent to you can be opened on it.</source>
        <translation>⚠ このパソコン以外で登録された端末「%1」（%2）が、%3 にあなたのアカウントへ追加されました。心当たりがなければ、直ちに情報セキュリティ担当に報告してください。あなた宛てのファイルはこの端末でも開けてしまいます。</translation>
    </message>
    <message>
        <source>⚠ Devices this PC did not enrol were added to your account: %1. If they are not yours, report them to IT security at once: files sent to you can be opened on them.</source>
        <translation>⚠ このパソコン以外で登録された端末が、あなたのアカウントに追加されました：%1。心当たりがなければ、直ちに情報セキュリティ担当に報告してください。あなた宛てのファイルはこれらの端末でも開けてしまいます。</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>“%1” (%2, %3)</source>
        <translation>「%1」（%2、%3）</translation>
    </message>
</context>
<context>
    <name>dates</name>
    <message>
        <source>{day} {mon}</source>
        <translation>{month}月{day}日</translation>
    </message>
    <message>
        <source>{day} {mon} {year}</source>
        <translation>{year}年{month}月{day}日</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <source>The drop server cannot be reached. Check the network and try again; an unfinished send continues when you retry.</source>
        <translation>受け渡しサーバーに接続できません。ネットワークを確認して再試行してください。途中の送信は再試行すると続きから再開します。</translation>
    </message>
    <message>
        <source>The staff directory could not be loaded. Check the network; if it persists, contact IT.</source>
        <translation>職員名簿を読み込めませんでした。ネットワークを確認してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The staff directory failed its security check, so sending is blocked. Contact IT.</source>
        <translation>職員名簿の安全性の確認に失敗したため、送信を停止しています。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The server offered an older staff directory than this PC has already seen, so sending is blocked. Contact IT.</source>
        <translation>サーバーがこの端末で確認済みのものより古い職員名簿を返したため、送信を停止しています。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The staff directory could not be refreshed, so sending is paused. Check the network and try again.</source>
        <translation>職員名簿を更新できないため、送信を一時停止しています。ネットワークを確認して再試行してください。</translation>
    </message>
    <message>
        <source>A received file did not match what the sender signed, so nothing was saved. Do not open it; tell IT.</source>
        <translation>受信したファイルが送信者の署名と一致しないため、何も保存しませんでした。開かずに情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>This drop failed verification and may be forged. Do not open it; tell IT.</source>
        <translation>この送付は検証に失敗しました。偽造の可能性があります。開かずに情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server did not resume a download correctly. Try again; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがダウンロードを正しく再開しませんでした。再試行してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>There are already too many files with this name in the folder. Choose another folder.</source>
        <translation>このフォルダーには同じ名前のファイルが多すぎます。別のフォルダーを選んでください。</translation>
    </message>
    <message>
        <source>The sender's staff directory differs from yours (a possible split view), so nothing was saved. Do not open the drop; tell IT security.</source>
        <translation>送信者の職員名簿があなたの職員名簿と一致しません（名簿が分断されている可能性があります）。何も保存していません。このファイルを開かずに情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>The sender's staff directory could not be checked against yours, so nothing was saved. Do not open the drop; tell IT security.</source>
        <translation>送信者の職員名簿をあなたの職員名簿と照合できなかったため、何も保存していません。このファイルを開かずに情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>This drop was not encrypted for this PC.</source>
        <translation>この送付はこの端末向けに暗号化されていません。</translation>
    </message>
    <message>
        <source>The drop server did not understand a request from this PC. Update Secure Send; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがこの端末からの要求を理解できませんでした。セキュア送信を更新してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server does not have it (any more). It may have been recalled or has expired.</source>
        <translation>受け渡しサーバーに見つかりません。取り消されたか、期限が切れた可能性があります。</translation>
    </message>
    <message>
        <source>The drop server refused a request from this PC. Update Secure Send; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがこの端末からの要求を拒否しました。セキュア送信を更新してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Too many attempts in a short time. Wait a minute, then try again.</source>
        <translation>短時間に試行が多すぎます。1 分ほど待ってから再試行してください。</translation>
    </message>
    <message>
        <source>The drop server had a problem. Try again later; if it persists, contact IT.</source>
        <translation>受け渡しサーバーで問題が発生しました。しばらくしてから再試行してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The connection was cut while sending. Try again; the send continues where it stopped.</source>
        <translation>送信中に接続が切れました。再試行すると中断したところから続けます。</translation>
    </message>
    <message>
        <source>The drop server gave an answer Secure Send does not understand. Check the server address with IT.</source>
        <translation>受け渡しサーバーの応答をセキュア送信が理解できませんでした。サーバーのアドレスを情報システム担当に確認してください。</translation>
    </message>
    <message>
        <source>The drop server did not accept this PC's credentials. Contact IT.</source>
        <translation>受け渡しサーバーがこの端末の認証情報を受け付けませんでした。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server did not accept this PC's credentials. Check the PC's clock; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがこの端末の認証情報を受け付けませんでした。端末の時計を確認し、解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>A request was sent twice and refused. Try again.</source>
        <translation>同じ要求が二重に送られたため拒否されました。再試行してください。</translation>
    </message>
    <message>
        <source>The drop server refused the send's description. Update Secure Send; if it persists, contact IT.</source>
        <translation>受け渡しサーバーが送信内容の記述を拒否しました。セキュア送信を更新してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>A recipient can no longer receive files (they may have left, or their PC was removed). Check the recipients.</source>
        <translation>宛先の一人がファイルを受け取れなくなっています（退職、または端末の削除）。宛先を確認してください。</translation>
    </message>
    <message>
        <source>The chosen expiry is longer than the drop server allows. Choose a shorter one.</source>
        <translation>選んだ有効期限は受け渡しサーバーの上限を超えています。短い期限を選んでください。</translation>
    </message>
    <message>
        <source>This send was already created. Check Sent before sending again.</source>
        <translation>この送信はすでに作成されています。送信済みを確認してから送り直してください。</translation>
    </message>
    <message>
        <source>Not every file reached the drop server yet. Retry the send to finish it.</source>
        <translation>まだすべてのファイルが受け渡しサーバーに届いていません。送信を再試行して完了させてください。</translation>
    </message>
    <message>
        <source>Only the person who sent this drop can do that.</source>
        <translation>この操作は、このファイルを送った本人だけが行えます。</translation>
    </message>
    <message>
        <source>This drop was not sent to you.</source>
        <translation>このファイルはあなた宛てではありません。</translation>
    </message>
    <message>
        <source>The drop server refused this file request. Check its addressees and due date, then try again.</source>
        <translation>受け渡しサーバーがこの提出依頼を受け付けませんでした。依頼先と提出期限を確認してから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>This file request could not be verified. Do not submit anything to it; tell IT security.</source>
        <translation>この提出依頼は検証できませんでした。何も提出せず、情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>This file request was not sent to you, so you cannot submit to it.</source>
        <translation>この提出依頼はあなた宛てではないため、提出できません。</translation>
    </message>
    <message>
        <source>Only members of the mailbox that made this file request can do that.</source>
        <translation>この操作は、提出依頼を出した窓口のメンバーだけが行えます。</translation>
    </message>
    <message>
        <source>This file request is closed; submissions are no longer accepted.</source>
        <translation>この提出依頼は締め切られました。提出は受け付けていません。</translation>
    </message>
    <message>
        <source>The sender recalled this drop; there is nothing to save.</source>
        <translation>送信者がこの送付を取り消しました。保存できるものはありません。</translation>
    </message>
    <message>
        <source>This drop has expired; ask the sender to send it again.</source>
        <translation>この送付は有効期限が切れています。送信者に再送を依頼してください。</translation>
    </message>
    <message>
        <source>The drop server refused the download receipt. The files were saved; tell IT if it happens again.</source>
        <translation>受け渡しサーバーが受領通知を拒否しました。ファイルは保存されています。繰り返す場合は情報システム担当に伝えてください。</translation>
    </message>
    <message>
        <source>The drop server uses a different upload protocol. Update Secure Send or contact IT.</source>
        <translation>受け渡しサーバーのアップロード方式が異なります。セキュア送信を更新するか、情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server refused a file's size. Try again; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがファイルの大きさを拒否しました。再試行してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server refused an upload. Update Secure Send; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがアップロードを拒否しました。セキュア送信を更新してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server does not expect this file. Retry the send; if it persists, contact IT.</source>
        <translation>受け渡しサーバーはこのファイルを受け付ける状態にありません。送信を再試行し、解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>This upload is no longer open on the drop server. Retry the send.</source>
        <translation>このアップロードは受け渡しサーバー上でもう開いていません。送信を再試行してください。</translation>
    </message>
    <message>
        <source>This file has already been uploaded completely.</source>
        <translation>このファイルはすでにすべてアップロードされています。</translation>
    </message>
    <message>
        <source>The upload and the drop server disagree on how much was sent. Retry the send; it resumes safely.</source>
        <translation>送信済みの量について受け渡しサーバーと食い違いがありました。送信を再試行してください。安全に続きから再開します。</translation>
    </message>
    <message>
        <source>This file is being uploaded by another window or process. Wait for it to finish.</source>
        <translation>このファイルは別のウィンドウまたは処理がアップロード中です。終わるまでお待ちください。</translation>
    </message>
    <message>
        <source>The drop server refused an upload check. Update Secure Send; if it persists, contact IT.</source>
        <translation>受け渡しサーバーがアップロードの検査を拒否しました。セキュア送信を更新してください。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Part of a file was damaged on the way to the drop server. Retry the send.</source>
        <translation>受け渡しサーバーへの途中でファイルの一部が壊れました。送信を再試行してください。</translation>
    </message>
    <message>
        <source>A file arrived at the drop server different from what was prepared, so it was refused. Send it again.</source>
        <translation>受け渡しサーバーに届いたファイルが準備した内容と異なるため拒否されました。もう一度送ってください。</translation>
    </message>
    <message>
        <source>The drop server could not store the file (its disk may be full). Try again later or contact IT.</source>
        <translation>受け渡しサーバーがファイルを保存できませんでした（ディスクが一杯の可能性があります）。しばらくしてから再試行するか、情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server's disk is full, so it cannot take anything new now; files already sent can still be received. Try again later; if it persists, contact IT.</source>
        <translation>受け渡しサーバーのディスクが一杯のため、今は新しいものを受け付けられません。送信済みのファイルは受け取れます。しばらくしてから再試行し、解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server's copy of the staff directory is damaged. Contact IT.</source>
        <translation>受け渡しサーバーが保持している職員名簿のコピーが壊れています。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server refused the directory update. Check the signer's log and contact the directory administrator.</source>
        <translation>受け渡しサーバーが名簿の更新を拒否しました。署名サービスのログを確認し、名簿の管理者に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server already has a newer directory. The signer retries from it.</source>
        <translation>受け渡しサーバーにはより新しい名簿があります。署名サービスがそこから再試行します。</translation>
    </message>
    <message>
        <source>This PC is already set up for Secure Send.</source>
        <translation>この端末はすでにセキュア送信の設定が済んでいます。</translation>
    </message>
    <message>
        <source>Enter the one-time code IT gave you.</source>
        <translation>情報システム担当から受け取ったワンタイムコードを入力してください。</translation>
    </message>
    <message>
        <source>The organisation settings file is damaged or not for this version. Ask IT for a new one.</source>
        <translation>組織の設定ファイルが壊れているか、このバージョン用ではありません。情報システム担当に新しいものを依頼してください。</translation>
    </message>
    <message>
        <source>The IT policy on this PC is damaged or invalid, so Secure Send does not run. Ask IT to fix it.</source>
        <translation>このパソコンのポリシー設定が壊れているか無効なため、セキュア送信は動作しません。情報システム担当に修正を依頼してください。</translation>
    </message>
    <message>
        <source>This PC is set up for a server or organisation other than the one IT policy requires. Ask IT to set it up again.</source>
        <translation>このパソコンは、ポリシー設定が定めるものとは別のサーバーまたは組織向けに設定されています。情報システム担当に設定し直しを依頼してください。</translation>
    </message>
    <message>
        <source>The drop server's address must start with https://. Plain http:// is allowed only for a server on this PC.</source>
        <translation>受け渡しサーバーのアドレスは https:// で始まる必要があります。http:// はこのパソコン上のサーバーにのみ使えます。</translation>
    </message>
    <message>
        <source>A file changed while it was being sent, so nothing was delivered. Send it again.</source>
        <translation>送信中にファイルが変更されたため、何も届けていません。もう一度送信してください。</translation>
    </message>
    <message>
        <source>The server lost part of a file it had already received, so the send was stopped. Try again later; if it happens again, tell IT.</source>
        <translation>サーバーが受け取り済みのファイルの一部を失ったため、送信を止めました。しばらくしてからもう一度お試しください。繰り返す場合は情報システム担当にご連絡ください。</translation>
    </message>
    <message>
        <source>Choose at least one recipient.</source>
        <translation>宛先を一人以上選んでください。</translation>
    </message>
    <message>
        <source>A recipient is not in the verified staff directory.</source>
        <translation>宛先が検証済みの職員名簿にありません。</translation>
    </message>
    <message>
        <source>A recipient has not set up Secure Send yet and cannot receive files.</source>
        <translation>宛先の方はまだセキュア送信の登録をしていないため、受け取れません。</translation>
    </message>
    <message>
        <source>The files contain My Numbers (individual numbers), which may go only to recipients designated to handle them, so nothing was sent.</source>
        <translation>ファイルに個人番号（マイナンバー）が含まれており、個人番号取扱者に指定された宛先にしか送れないため、送信しませんでした。</translation>
    </message>
    <message>
        <source>This send needs your superior's approval, but no approver is set for you in the staff directory, so nothing was sent. Ask IT to set one.</source>
        <translation>この送信には上長の承認が必要ですが、職員名簿にあなたの承認者が設定されていないため、送信しませんでした。情報システム担当に設定を依頼してください。</translation>
    </message>
    <message>
        <source>This send needs your superior's approval, but your approver cannot approve now (left, or not set up), so nothing was sent. Ask IT to update your approver.</source>
        <translation>この送信には上長の承認が必要ですが、承認者が承認できない状態（退職・未設定など）のため、送信しませんでした。情報システム担当に承認者の変更を依頼してください。</translation>
    </message>
    <message>
        <source>This send holds My Numbers and needs your superior's approval, but your approver is not designated to handle My Numbers and may not read them, so nothing was sent. Ask IT.</source>
        <translation>この送信は個人番号を含み上長の承認が必要ですが、承認者が個人番号取扱者に指定されておらず個人番号を見ることができないため、送信しませんでした。情報システム担当に相談してください。</translation>
    </message>
    <message>
        <source>The drop server refused the decision as invalid. Try again; if it persists, tell IT.</source>
        <translation>サーバーが承認・差し戻しの内容を無効として受け付けませんでした。もう一度お試しください。続く場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>You are not an approver of this send.</source>
        <translation>あなたはこの送信の承認者ではありません。</translation>
    </message>
    <message>
        <source>This send has already been approved or returned.</source>
        <translation>この送信はすでに承認または差し戻しされています。</translation>
    </message>
    <message>
        <source>This send does not need approval.</source>
        <translation>この送信は承認を必要としません。</translation>
    </message>
    <message>
        <source>An unfinished send could not be resumed and was set aside. Send those files again.</source>
        <translation>途中で止まった送信を再開できなかったため、取り除きました。ファイルをもう一度送ってください。</translation>
    </message>
    <message>
        <source>The drop server has lost this file, so it cannot be received. Tell IT.</source>
        <translation>受け渡しサーバーがこのファイルを失っているため、受け取れません。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Not every submission was saved. Save all again: it saves only those still missing.</source>
        <translation>保存できなかった提出があります。もう一度まとめて保存すると、まだ保存されていない提出だけを保存します。</translation>
    </message>
    <message>
        <source>This drop needed a superior's approval and has no valid one, so it was not opened. Do not trust it; tell IT security.</source>
        <translation>この受信ファイルには上長の承認が必要ですが、有効な承認がないため開きませんでした。信用せず、情報セキュリティ担当に連絡してください。</translation>
    </message>
    <message>
        <source>This send is waiting for a superior's approval.</source>
        <translation>この送信は上長の承認待ちです。</translation>
    </message>
    <message>
        <source>This send was returned by the approver and will not be delivered.</source>
        <translation>この送信は承認者により差し戻されたため、配信されません。</translation>
    </message>
    <message>
        <source>The virus scanner found a threat in a received file, so nothing was saved. Do not ask for it again; tell IT.</source>
        <translation>ウイルス対策ソフトが受信ファイルから脅威を検出したため、何も保存しませんでした。再送を依頼せず、情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The virus scanner could not check the received files, and policy requires it, so nothing was saved. Tell IT.</source>
        <translation>ウイルス対策ソフトで受信ファイルを検査できず、ポリシーで検査が必須のため、何も保存しませんでした。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop server sent an incomplete file, so nothing was saved. Try again later; if it happens again, tell IT.</source>
        <translation>受け渡しサーバーから届いたファイルが途中までしかないため、何も保存しませんでした。しばらくしてからやり直してください。繰り返す場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>file was modified or truncated</source>
        <translation>ファイルが改ざんされたか、途中で切れています</translation>
    </message>
    <message>
        <source>file header was modified</source>
        <translation>ファイルのヘッダーが改ざんされています</translation>
    </message>
    <message>
        <source>no identity matched: the file was not encrypted to you</source>
        <translation>鍵が一致しません：このファイルはあなた宛てに暗号化されていません</translation>
    </message>
    <message>
        <source>invalid armor</source>
        <translation>アーマー形式が不正です</translation>
    </message>
    <message>
        <source>invalid header (not an age or CMS file, an algorithm not supported, or damaged)</source>
        <translation>ヘッダーが不正です（age や CMS のファイルではない、対応していない暗号方式、または壊れています）</translation>
    </message>
    <message>
        <source>invalid key</source>
        <translation>鍵の形式が不正です</translation>
    </message>
    <message>
        <source>output exists</source>
        <translation>出力先がすでに存在します</translation>
    </message>
    <message>
        <source>The command was not given what it needs. See its --help.</source>
        <translation>コマンドに必要な指定が足りません。--help を参照してください。</translation>
    </message>
    <message>
        <source>The duration is not understood. Use a number of days, e.g. 7d.</source>
        <translation>期間を理解できません。日数で指定してください（例：7d）。</translation>
    </message>
    <message>
        <source>The demonstration could not finish. See the details.</source>
        <translation>デモを最後まで実行できませんでした。詳細を確認してください。</translation>
    </message>
    <message>
        <source>This send must use the CRYPTREC cipher suite, but a recipient's PC has no key for it yet, so nothing was sent. Ask them to start Secure Send once (it adds the key), then send again.</source>
        <translation>この送信は CRYPTREC 暗号方式で送る必要がありますが、受信者の端末にその鍵がまだないため、送信しませんでした。受信者にセキュア送信を一度起動してもらい（鍵が追加されます）、もう一度送信してください。</translation>
    </message>
    <message>
        <source>A file to send could not be found. It may have been moved or deleted.</source>
        <translation>送信するファイルが見つかりません。移動または削除された可能性があります。</translation>
    </message>
    <message>
        <source>There are no files to send.</source>
        <translation>送信するファイルがありません。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>キャンセルしました。</translation>
    </message>
    <message>
        <source>Your storage on the drop server is full. Recall or wait for older drops to expire, then try again.</source>
        <translation>受け渡しサーバーの保存容量が上限に達しています。古い送付を取り消すか期限切れを待ってから再試行してください。</translation>
    </message>
    <message>
        <source>A file is larger than the drop server allows.</source>
        <translation>受け渡しサーバーの上限を超える大きさのファイルがあります。</translation>
    </message>
    <message>
        <source>This PC's access was revoked. Contact IT.</source>
        <translation>この端末の利用は取り消されています。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The one-time code was wrong, used or expired. Ask IT for a new code.</source>
        <translation>ワンタイムコードが誤っているか、使用済みまたは期限切れです。情報システム担当に新しいコードを依頼してください。</translation>
    </message>
    <message>
        <source>IT could not enrol this PC: it may already be enrolled for your account (from an earlier setup), or your account cannot enrol devices. Contact IT.</source>
        <translation>このパソコンを登録できませんでした。以前の設定で既に登録されているか、あなたのアカウントでは端末を登録できない可能性があります。情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>This PC's request is waiting for IT. Secure Send finishes setting up by itself once IT has processed it.</source>
        <translation>このパソコンの登録申請は情報システム担当の処理を待っています。処理が終わるとセキュア送信は自動的に設定を完了します。</translation>
    </message>
    <message>
        <source>That device is no longer listed for your account, so there is nothing to confirm.</source>
        <translation>その端末はもうあなたのアカウントに登録されていないため、確認の必要はありません。</translation>
    </message>
    <message>
        <source>This PC is not set up yet.</source>
        <translation>この端末はまだ登録されていません。</translation>
    </message>
    <message>
        <source>This PC's clock is wrong. Correct the date and time, then try again.</source>
        <translation>この端末の時計がずれています。日付と時刻を直してから再試行してください。</translation>
    </message>
    <message>
        <source>Something went wrong. Try again; if it persists, contact IT with the details below.</source>
        <translation>問題が発生しました。再試行してください。解決しない場合は、下の詳細を添えて情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Sending failed and nothing was delivered. Try again; if it persists, contact IT with the contact information in the details.</source>
        <translation>送信できず、何も届いていません。もう一度お試しください。解決しない場合は、詳細にある問い合わせ情報を添えて情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Saving failed. Try again; if it persists, contact IT with the contact information in the details.</source>
        <translation>保存できませんでした。もう一度お試しください。解決しない場合は、詳細にある問い合わせ情報を添えて情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>This PC could not be set up. Try again; if it persists, contact IT with the contact information in the details.</source>
        <translation>この端末を登録できませんでした。もう一度お試しください。解決しない場合は、詳細にある問い合わせ情報を添えて情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The drop could not be recalled. Try again; if it persists, contact IT with the contact information in the details.</source>
        <translation>この送付を取り消せませんでした。もう一度お試しください。解決しない場合は、詳細にある問い合わせ情報を添えて情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>The file request could not be created. Try again; if it persists, contact IT with the contact information in the details.</source>
        <translation>提出依頼を作成できませんでした。もう一度お試しください。解決しない場合は、詳細にある問い合わせ情報を添えて情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>A file to send could not be read, so nothing was sent. Check that it is still there and not open elsewhere, then try again.</source>
        <translation>送信するファイルを読み込めなかったため、何も送信していません。ファイルが元の場所にあり、ほかで開かれていないことを確認してから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The files could not be written to the folder. Check that the folder exists and the disk has free space, or choose another folder.</source>
        <translation>ファイルをフォルダーに書き込めませんでした。フォルダーがあること、ディスクに空きがあることを確認するか、別のフォルダーを選んでください。</translation>
    </message>
    <message>
        <source>Recipient %1 has not set up Secure Send yet, so nothing was sent. Remove this recipient, or ask them to set up Secure Send first.</source>
        <translation>宛先 %1 はまだセキュア送信の登録をしていないため、何も送信していません。この宛先を外すか、先に登録するよう本人に依頼してください。</translation>
    </message>
    <message>
        <source>Recipient %1 is not in the verified staff directory (or has left), so nothing was sent. Remove this recipient.</source>
        <translation>宛先 %1 は確認済みの職員名簿にない（または退職した）ため、何も送信していません。この宛先を外してください。</translation>
    </message>
    <message>
        <source>This send must use the CRYPTREC cipher suite, but a PC of %1 has no key for it yet, so nothing was sent. Ask them to start Secure Send once (it adds the key), then send again.</source>
        <translation>この送信は CRYPTREC 暗号方式で送る必要がありますが、%1 の端末にその鍵がまだないため、送信しませんでした。セキュア送信を一度起動してもらい（鍵が追加されます）、もう一度送信してください。</translation>
    </message>
    <message>
        <source>This file request must use the CRYPTREC cipher suite, but a PC of %1 has no key for it yet, so the request was not created. Ask them to start Secure Send once (it adds the key), then create it again.</source>
        <translation>この提出依頼は CRYPTREC 暗号方式で暗号化する必要がありますが、%1 の端末にその鍵がまだないため、依頼を作成しませんでした。セキュア送信を一度起動してもらい（鍵が追加されます）、もう一度作成してください。</translation>
    </message>
    <message>
        <source>The connection to the drop server was lost while sending. Check the network and try again; the send continues where it stopped.</source>
        <translation>送信中に受け渡しサーバーとの接続が切れました。ネットワークを確認してもう一度送信すると、中断したところから続けます。</translation>
    </message>
    <message>
        <source>A recipient has not set up Secure Send yet, so nothing was sent. Remove that recipient, or ask them to set up Secure Send first.</source>
        <translation>宛先の中に、まだセキュア送信の登録をしていない方がいるため、何も送信していません。その宛先を外すか、先に登録するよう本人に依頼してください。</translation>
    </message>
    <message>
        <source>The drop server cannot be reached, so the staff directory could not be checked and nothing was sent. Check the network and try again.</source>
        <translation>受け渡しサーバーに接続できないため、職員名簿を確認できず、何も送信していません。ネットワークを確認して、もう一度お試しください。</translation>
    </message>
    <message>
        <source>This drop uses the CRYPTREC cipher suite, and this PC has no key for it yet. Restart Secure Send (it adds the key), then save again.</source>
        <translation>この送付は CRYPTREC 暗号方式で暗号化されていますが、この端末にはその鍵がまだありません。セキュア送信を再起動して（鍵が追加されます）、もう一度保存してください。</translation>
    </message>
    <message>
        <source>The connection was lost while saving. Save again to continue where it stopped.</source>
        <translation>保存中に接続が切れました。もう一度保存すると続きから再開します。</translation>
    </message>
    <message>
        <source>This drop is no longer on the drop server (recalled, or past its download deadline), so it cannot be saved.</source>
        <translation>この送付は受け渡しサーバーにもうありません（取り消されたか、ダウンロード期限が過ぎました）。保存できません。</translation>
    </message>
    <message>
        <source>This drop failed verification and may be forged, so it cannot be saved. Do not open it; tell IT.</source>
        <translation>この送付は検証に失敗しており、偽装されている可能性があるため保存できません。開かずに情報システム担当へ連絡してください。</translation>
    </message>
    <message>
        <source>The sender of this drop could not be verified in the staff directory, so it cannot be saved. Do not open it; tell IT.</source>
        <translation>この送付の送信者を職員名簿で確認できなかったため、保存できません。開かずに情報システム担当へ連絡してください。</translation>
    </message>
    <message>
        <source>The drop server cannot be reached, so this PC is not set up yet. Check the network and try again.</source>
        <translation>受け渡しサーバーに接続できないため、この端末の登録はまだ完了していません。ネットワークを確認して、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The drop server cannot be reached, so the drop was not recalled. Check the network and recall it again.</source>
        <translation>受け渡しサーバーに接続できないため、この送付は取り消されていません。ネットワークを確認して、もう一度取り消してください。</translation>
    </message>
    <message>
        <source>This drop is no longer on the drop server: it was already recalled or is past its download deadline.</source>
        <translation>この送付は受け渡しサーバーにもうありません。すでに取り消されたか、ダウンロード期限が過ぎています。</translation>
    </message>
    <message>
        <source>The drop server cannot be reached, so the staff directory could not be checked and sending is paused. Secure Send tries again by itself.</source>
        <translation>受け渡しサーバーに接続できないため、職員名簿を確認できず、送信を止めています。自動で再試行します。</translation>
    </message>
    <message>
        <source>The staff directory could not be refreshed, so sending is paused; search uses the last verified copy. Secure Send tries again by itself.</source>
        <translation>職員名簿を更新できないため、送信を止めています。検索には最後に確認した名簿を使います。自動で再試行します。</translation>
    </message>
    <message>
        <source>The staff directory could not be loaded, so sending is paused. Secure Send tries again by itself; if it persists, contact IT.</source>
        <translation>職員名簿を読み込めないため、送信を止めています。自動で再試行します。解決しない場合は情報システム担当に連絡してください。</translation>
    </message>
    <message>
        <source>Error code: %1</source>
        <translation>エラーコード：%1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>Drop ID: %1</source>
        <translation>送信ID：%1</translation>
    </message>
    <message>
        <source>Time: %1</source>
        <translation>日時：%1</translation>
    </message>
    <message>
        <source>Version: %1</source>
        <translation>バージョン：%1</translation>
    </message>
    <message>
        <source>Server: %1</source>
        <translation>受け渡しサーバー：%1</translation>
    </message>
    <message>
        <source>Co&amp;py contact information</source>
        <translation>問い合わせ情報をコピー(&amp;P)</translation>
    </message>
</context>
</TS>