"""The ledger's records: immutable values that check themselves when built.

A fund's specification (``spec``), its context and users (``fund``), who may do what
(``roles``), money in pence (``money``), journal entries and their postings (``entries``)
and the hash chain (``chain``). Nothing here touches a database.
"""
