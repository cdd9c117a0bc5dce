BEGIN TRANSACTION;
CREATE TABLE promo_admin_user (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	created DATETIME NOT NULL, 
	CONSTRAINT pk_promo_admin_user PRIMARY KEY (id), 
	CONSTRAINT uq_promo_admin_user_name UNIQUE (name)
);
INSERT INTO "promo_admin_user" VALUES(1,'merchant','scrypt:32768:8:1$9EeVeZ5VeAxO1gWr$ab2025567ecd5de8ea74fe5b932b33c94cda4f294da54a8660918f70e1f545be7a39c4780a4ed2fffaac31e8e05e2655d3fb2fcdada77e71ac0318028165da00','2026-12-01 23:24:24.680488');
CREATE TABLE promo_api_token (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created DATETIME NOT NULL, 
	revoked DATETIME, 
	CONSTRAINT pk_promo_api_token PRIMARY KEY (id), 
	CONSTRAINT uq_promo_api_token_name UNIQUE (name), 
	CONSTRAINT uq_promo_api_token_token_hash UNIQUE (token_hash)
);
INSERT INTO "promo_api_token" VALUES(1,'website','78f44e98a79e068eddc79bf63bc896e1bb46ee6484bf0c594bc638ef94db72c9','2026-12-01 23:24:24.322738',NULL);
INSERT INTO "promo_api_token" VALUES(2,'other only','f0f48e61f8eb4b1c4c24fdc9ccc5982c3f51446b480609cd2a102f1930547d65','2026-12-01 23:24:24.342879',NULL);
INSERT INTO "promo_api_token" VALUES(3,'old website','cdd23d5d93fbb895ba32f2d5697c39c9b5d5d70fbd543c821a72bf349ad1d5a7','2026-12-01 23:24:24.357183','2026-12-01 23:24:24.386578');
CREATE TABLE promo_api_token_scope (
	token_id INTEGER NOT NULL, 
	db_id INTEGER NOT NULL, 
	CONSTRAINT pk_promo_api_token_scope PRIMARY KEY (token_id, db_id), 
	CONSTRAINT fk_promo_api_token_scope_token_id_promo_api_token FOREIGN KEY(token_id) REFERENCES promo_api_token (id) ON DELETE CASCADE, 
	CONSTRAINT fk_promo_api_token_scope_db_id_promo_database FOREIGN KEY(db_id) REFERENCES promo_database (id) ON DELETE CASCADE
);
INSERT INTO "promo_api_token_scope" VALUES(2,2);
CREATE TABLE promo_attachment (
	id INTEGER NOT NULL, 
	code_id INTEGER NOT NULL, 
	profile_pk INTEGER NOT NULL, 
	personal BOOLEAN NOT NULL, 
	attached DATETIME NOT NULL, 
	CONSTRAINT pk_promo_attachment PRIMARY KEY (id), 
	CONSTRAINT uq_promo_attachment_code_id_profile_pk UNIQUE (code_id, profile_pk), 
	CONSTRAINT fk_promo_attachment_code_id_promo_code FOREIGN KEY(code_id) REFERENCES promo_code (id) ON DELETE CASCADE, 
	CONSTRAINT fk_promo_attachment_profile_pk_promo_profile FOREIGN KEY(profile_pk) REFERENCES promo_profile (id) ON DELETE CASCADE
);
INSERT INTO "promo_attachment" VALUES(1,1,1,1,'2026-12-01 23:24:24.704694');
INSERT INTO "promo_attachment" VALUES(2,2,2,1,'2026-12-01 23:24:24.715651');
INSERT INTO "promo_attachment" VALUES(3,21,1,0,'2026-12-01 23:24:24.717621');
INSERT INTO "promo_attachment" VALUES(4,21,3,0,'2026-12-01 23:24:24.736119');
CREATE TABLE promo_code (
	id INTEGER NOT NULL, 
	loyalty_id INTEGER NOT NULL, 
	code VARCHAR(255) NOT NULL, 
	universal BOOLEAN DEFAULT 0 NOT NULL, 
	free BOOLEAN DEFAULT 1 NOT NULL, 
	expire_date DATETIME, 
	activated DATETIME, 
	created DATETIME NOT NULL, 
	CONSTRAINT pk_promo_code PRIMARY KEY (id), 
	CONSTRAINT uq_promo_code_loyalty_id_code UNIQUE (loyalty_id, code), 
	CONSTRAINT fk_promo_code_loyalty_id_promo_loyalty_program FOREIGN KEY(loyalty_id) REFERENCES promo_loyalty_program (id) ON DELETE CASCADE
);
INSERT INTO "promo_code" VALUES(1,1,'WELCOME-0001',0,0,NULL,'2026-12-01 23:24:24.743813','2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(2,1,'WELCOME-0002',0,0,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(3,1,'WELCOME-0003',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(4,1,'WELCOME-0004',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(5,1,'WELCOME-0005',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(6,1,'WELCOME-0006',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(7,1,'WELCOME-0007',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(8,1,'WELCOME-0008',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(9,1,'WELCOME-0009',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(10,1,'WELCOME-0010',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(11,1,'WELCOME-0011',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(12,1,'WELCOME-0012',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(13,1,'WELCOME-0013',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(14,1,'WELCOME-0014',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(15,1,'WELCOME-0015',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(16,1,'WELCOME-0016',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(17,1,'WELCOME-0017',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(18,1,'WELCOME-0018',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(19,1,'WELCOME-0019',0,1,NULL,NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(20,1,'WELCOME-0020',0,1,'2031-01-01 00:00:00.000000',NULL,'2026-12-01 23:24:24.276989');
INSERT INTO "promo_code" VALUES(21,2,'SUMMER',1,0,'2030-12-31 23:59:59.000000',NULL,'2026-12-01 23:24:24.299954');
INSERT INTO "promo_code" VALUES(22,2,'OLD',1,0,'2020-01-01 23:59:59.000000',NULL,'2026-12-01 23:24:24.299954');
CREATE TABLE promo_custom_field (
	id INTEGER NOT NULL, 
	db_id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	CONSTRAINT pk_promo_custom_field PRIMARY KEY (id), 
	CONSTRAINT uq_promo_custom_field_db_id_name UNIQUE (db_id, name), 
	CONSTRAINT fk_promo_custom_field_db_id_promo_database FOREIGN KEY(db_id) REFERENCES promo_database (id) ON DELETE CASCADE
);
INSERT INTO "promo_custom_field" VALUES(1,1,'card');
CREATE TABLE promo_database (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	created DATETIME NOT NULL, 
	CONSTRAINT pk_promo_database PRIMARY KEY (id), 
	CONSTRAINT uq_promo_database_name UNIQUE (name)
);
INSERT INTO "promo_database" VALUES(1,'Shop','2026-12-01 23:24:24.147333');
INSERT INTO "promo_database" VALUES(2,'Other shop','2026-12-01 23:24:24.176577');
CREATE TABLE promo_loyalty_program (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	universal BOOLEAN DEFAULT 0 NOT NULL, 
	created DATETIME NOT NULL, 
	CONSTRAINT pk_promo_loyalty_program PRIMARY KEY (id)
);
INSERT INTO "promo_loyalty_program" VALUES(1,'Welcome 10%',0,'2026-12-01 23:24:24.231135');
INSERT INTO "promo_loyalty_program" VALUES(2,'Summer sale',1,'2026-12-01 23:24:24.245213');
CREATE TABLE promo_profile (
	id INTEGER NOT NULL, 
	profile_id VARCHAR(24) NOT NULL, 
	db_id INTEGER NOT NULL, 
	email VARCHAR(320), 
	email_key VARCHAR(320), 
	phone VARCHAR(64), 
	phone_key VARCHAR(64), 
	created DATETIME NOT NULL, 
	CONSTRAINT pk_promo_profile PRIMARY KEY (id), 
	CONSTRAINT uq_promo_profile_profile_id UNIQUE (profile_id), 
	CONSTRAINT fk_promo_profile_db_id_promo_database FOREIGN KEY(db_id) REFERENCES promo_database (id) ON DELETE CASCADE
);
INSERT INTO "promo_profile" VALUES(1,'fe5620fd204057b6d830dabb',1,'alice@example.com','alice@example.com','+7 900 000-00-01','+79000000001','2026-12-01 23:24:24.208102');
INSERT INTO "promo_profile" VALUES(2,'faad4846e2f7402fbc8079de',1,'bob@example.com','bob@example.com','+79000000002','+79000000002','2026-12-01 23:24:24.208116');
INSERT INTO "promo_profile" VALUES(3,'2781e4af0896f77814ed0230',1,'carol@example.com','carol@example.com',NULL,NULL,'2026-12-01 23:24:24.208120');
CREATE TABLE promo_profile_field (
	profile_pk INTEGER NOT NULL, 
	field_id INTEGER NOT NULL, 
	value VARCHAR(1024) NOT NULL, 
	CONSTRAINT pk_promo_profile_field PRIMARY KEY (profile_pk, field_id), 
	CONSTRAINT fk_promo_profile_field_profile_pk_promo_profile FOREIGN KEY(profile_pk) REFERENCES promo_profile (id) ON DELETE CASCADE, 
	CONSTRAINT fk_promo_profile_field_field_id_promo_custom_field FOREIGN KEY(field_id) REFERENCES promo_custom_field (id) ON DELETE CASCADE
);
INSERT INTO "promo_profile_field" VALUES(1,1,'1001');
INSERT INTO "promo_profile_field" VALUES(3,1,'3003');
CREATE INDEX ix_promo_profile_phone ON promo_profile (db_id, phone_key);
CREATE INDEX ix_promo_profile_email ON promo_profile (db_id, email_key);
CREATE INDEX ix_promo_code_program ON promo_code (loyalty_id, id);
CREATE INDEX ix_promo_code_free ON promo_code (loyalty_id, id) WHERE free = 1;
CREATE INDEX ix_promo_profile_field_lookup ON promo_profile_field (field_id, value);
CREATE INDEX ix_promo_attachment_profile ON promo_attachment (profile_pk);
CREATE UNIQUE INDEX uq_promo_attachment_personal ON promo_attachment (code_id) WHERE personal = 1;
COMMIT;
