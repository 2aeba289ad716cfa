"""sap mailing permission unique per person

Revision ID: sap_0002
Revises: sap_0001
Create Date: 2026-12-01 14:41:20.784869
"""

from alembic import op
import sqlalchemy as sa


revision = 'sap_0002'
down_revision = 'sap_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Permissions stored twice by concurrent first calls before this key existed: the latest one stays.
    op.execute(
        "DELETE FROM sap_mailing_permission WHERE EXISTS (SELECT 1 FROM sap_mailing_permission AS later "
        "WHERE later.customer_uuid = sap_mailing_permission.customer_uuid "
        "AND (later.contact_person_uuid = sap_mailing_permission.contact_person_uuid "
        "OR (later.contact_person_uuid IS NULL AND sap_mailing_permission.contact_person_uuid IS NULL)) "
        "AND (later.changed_at > sap_mailing_permission.changed_at OR (later.changed_at = "
        "sap_mailing_permission.changed_at AND later.uuid > sap_mailing_permission.uuid)))"
    )
    with op.batch_alter_table('sap_mailing_permission', schema=None) as batch_op:
        batch_op.create_index('uq_sap_mailing_permission_person', ['customer_uuid', 'contact_person_uuid'],
                              unique=True)
        batch_op.create_index('uq_sap_mailing_permission_account', ['customer_uuid'], unique=True,
                              sqlite_where=sa.text('contact_person_uuid IS NULL'),
                              postgresql_where=sa.text('contact_person_uuid IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('sap_mailing_permission', schema=None) as batch_op:
        batch_op.drop_index('uq_sap_mailing_permission_account')
        batch_op.drop_index('uq_sap_mailing_permission_person')
