"""xweb tenant profile: the profile in force and records of tables the schema does not have

Revision ID: 0004_xweb
Revises: 0003_xweb
Create Date: 2026-12-07 10:15:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004_xweb'
down_revision = '0003_xweb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xweb_tenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xweb_tenant'))
    )
    op.create_table('xweb_tenant_record',
    sa.Column('table_name', sa.String(length=128), nullable=False),
    sa.Column('record_key', sa.Uuid(), nullable=False),
    sa.Column('values', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('add_user', sa.String(length=64), nullable=True),
    sa.Column('add_date', sa.DateTime(), nullable=True),
    sa.Column('change_user', sa.String(length=64), nullable=True),
    sa.Column('change_date', sa.DateTime(), nullable=True),
    sa.Column('delete_flag', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', 'record_key', name=op.f('pk_xweb_tenant_record'))
    )
    with op.batch_alter_table('xweb_tenant_record', schema=None) as batch_op:
        batch_op.create_index('ix_xweb_tenant_record_change_date', ['table_name', 'change_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('xweb_tenant_record', schema=None) as batch_op:
        batch_op.drop_index('ix_xweb_tenant_record_change_date')

    op.drop_table('xweb_tenant_record')
    op.drop_table('xweb_tenant')
