<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en_GB">
<context>
    <name>ApprovalsPage</name>
    <message numerus="yes">
        <source>Saved %n file(s) to %1.</source>
        <translation><numerusform>Saved %n file to %1.</numerusform><numerusform>Saved %n files to %1.</numerusform></translation>
    </message>
</context>
<context>
    <name>ConfirmSendDialog</name>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation><numerusform>%n day</numerusform><numerusform>%n days</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>Files (%n):</source>
        <translation><numerusform>Files (%n):</numerusform><numerusform>Files (%n):</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>role mailbox, %n member(s)</source>
        <translation><numerusform>role mailbox, %n member</numerusform><numerusform>role mailbox, %n members</numerusform></translation>
    </message>
</context>
<context>
    <name>DropDetailsPane</name>
    <message numerus="yes">
        <source>%1 in %n file(s)</source>
        <translation><numerusform>%1 in %n file</numerusform><numerusform>%1 in %n files</numerusform></translation>
    </message>
</context>
<context>
    <name>FileList</name>
    <message numerus="yes">
        <source>%n item(s), %1 in total</source>
        <translation><numerusform>%n item, %1 in total</numerusform><numerusform>%n items, %1 in total</numerusform></translation>
    </message>
</context>
<context>
    <name>InboxPage</name>
    <message numerus="yes">
        <source>Saved %n file(s) to %1.</source>
        <translation><numerusform>Saved %n file to %1.</numerusform><numerusform>Saved %n files to %1.</numerusform></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <source>✓ Verified directory: %n entries</source>
        <translation><numerusform>✓ Verified directory: %n entry</numerusform><numerusform>✓ Verified directory: %n entries</numerusform></translation>
    </message>
</context>
<context>
    <name>MyNumberNotes</name>
    <message numerus="yes">
        <source>%1: %n number(s) have the form of a My Number, but no heading or nearby word says so. Check that none of them is a My Number.</source>
        <translation><numerusform>%1: %n number have the form of a My Number, but no heading or nearby word says so. Check that none of them is a My Number.</numerusform><numerusform>%1: %n numbers have the form of a My Number, but no heading or nearby word says so. Check that none of them is a My Number.</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>and %n more file(s)</source>
        <translation><numerusform>and %n more file</numerusform><numerusform>and %n more files</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>Files with My Numbers go at Confidentiality 3 and are available for at most %n day(s). Every recipient is designated to handle them.</source>
        <translation><numerusform>Files with My Numbers go at Confidentiality 3 and are available for at most %n day. Every recipient is designated to handle them.</numerusform><numerusform>Files with My Numbers go at Confidentiality 3 and are available for at most %n days. Every recipient is designated to handle them.</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%1: %n My Number(s) (%2)</source>
        <translation><numerusform>%1: %n My Number (%2)</numerusform><numerusform>%1: %n My Numbers (%2)</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%1: %n My Number(s)</source>
        <translation><numerusform>%1: %n My Number</numerusform><numerusform>%1: %n My Numbers</numerusform></translation>
    </message>
</context>
<context>
    <name>RejectReasonDialog</name>
    <message numerus="yes">
        <source>%n character(s) left</source>
        <translation><numerusform>%n character left</numerusform><numerusform>%n characters left</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%n character(s) too many</source>
        <translation><numerusform>%n character too many</numerusform><numerusform>%n characters too many</numerusform></translation>
    </message>
</context>
<context>
    <name>RequestsPage</name>
    <message numerus="yes">
        <source>Submitted: %n file(s)</source>
        <translation><numerusform>Submitted: %n file</numerusform><numerusform>Submitted: %n files</numerusform></translation>
    </message>
</context>
<context>
    <name>SendPage</name>
    <message numerus="yes">
        <source>Sent to %1: %n file(s)</source>
        <translation><numerusform>Sent to %1: %n file</numerusform><numerusform>Sent to %1: %n files</numerusform></translation>
    </message>
</context>
<context>
    <name>UnfinishedSendsDialog</name>
    <message numerus="yes">
        <source>%n send(s) started earlier did not finish. Nothing of them has been delivered yet. Finish or discard each.</source>
        <translation><numerusform>%n send started earlier did not finish. Nothing of them has been delivered yet. Finish or discard each.</numerusform><numerusform>%n sends started earlier did not finish. Nothing of them has been delivered yet. Finish or discard each.</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%n unfinished send(s) could not be read.</source>
        <translation><numerusform>%n unfinished send could not be read.</numerusform><numerusform>%n unfinished sends could not be read.</numerusform></translation>
    </message>
</context>
</TS>