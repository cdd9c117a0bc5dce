--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: promo_admin_user; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_admin_user (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    password_hash character varying(255) NOT NULL,
    created timestamp without time zone NOT NULL
);


--
-- Name: promo_admin_user_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_admin_user_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_admin_user_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_admin_user_id_seq OWNED BY public.promo_admin_user.id;


--
-- Name: promo_api_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_api_token (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    token_hash character varying(64) NOT NULL,
    created timestamp without time zone NOT NULL,
    revoked timestamp without time zone
);


--
-- Name: promo_api_token_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_api_token_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_api_token_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_api_token_id_seq OWNED BY public.promo_api_token.id;


--
-- Name: promo_api_token_scope; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_api_token_scope (
    token_id integer NOT NULL,
    db_id integer NOT NULL
);


--
-- Name: promo_attachment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_attachment (
    id integer NOT NULL,
    code_id integer NOT NULL,
    profile_pk integer NOT NULL,
    personal boolean NOT NULL,
    attached timestamp without time zone NOT NULL
);


--
-- Name: promo_attachment_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_attachment_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_attachment_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_attachment_id_seq OWNED BY public.promo_attachment.id;


--
-- Name: promo_code; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_code (
    id integer NOT NULL,
    loyalty_id integer NOT NULL,
    code character varying(255) NOT NULL,
    universal boolean DEFAULT false NOT NULL,
    free boolean DEFAULT true NOT NULL,
    expire_date timestamp without time zone,
    activated timestamp without time zone,
    created timestamp without time zone NOT NULL
);


--
-- Name: promo_code_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_code_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_code_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_code_id_seq OWNED BY public.promo_code.id;


--
-- Name: promo_custom_field; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_custom_field (
    id integer NOT NULL,
    db_id integer NOT NULL,
    name character varying(255) NOT NULL
);


--
-- Name: promo_custom_field_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_custom_field_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_custom_field_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_custom_field_id_seq OWNED BY public.promo_custom_field.id;


--
-- Name: promo_database; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_database (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    created timestamp without time zone NOT NULL
);


--
-- Name: promo_database_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_database_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_database_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_database_id_seq OWNED BY public.promo_database.id;


--
-- Name: promo_loyalty_program; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_loyalty_program (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    universal boolean DEFAULT false NOT NULL,
    created timestamp without time zone NOT NULL
);


--
-- Name: promo_loyalty_program_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_loyalty_program_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_loyalty_program_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_loyalty_program_id_seq OWNED BY public.promo_loyalty_program.id;


--
-- Name: promo_profile; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_profile (
    id integer NOT NULL,
    profile_id character varying(24) NOT NULL,
    db_id integer NOT NULL,
    email character varying(320),
    email_key character varying(320),
    phone character varying(64),
    phone_key character varying(64),
    created timestamp without time zone NOT NULL
);


--
-- Name: promo_profile_field; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.promo_profile_field (
    profile_pk integer NOT NULL,
    field_id integer NOT NULL,
    value character varying(1024) NOT NULL
);


--
-- Name: promo_profile_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.promo_profile_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: promo_profile_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.promo_profile_id_seq OWNED BY public.promo_profile.id;


--
-- Name: promo_admin_user id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_admin_user ALTER COLUMN id SET DEFAULT nextval('public.promo_admin_user_id_seq'::regclass);


--
-- Name: promo_api_token id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token ALTER COLUMN id SET DEFAULT nextval('public.promo_api_token_id_seq'::regclass);


--
-- Name: promo_attachment id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_attachment ALTER COLUMN id SET DEFAULT nextval('public.promo_attachment_id_seq'::regclass);


--
-- Name: promo_code id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_code ALTER COLUMN id SET DEFAULT nextval('public.promo_code_id_seq'::regclass);


--
-- Name: promo_custom_field id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_custom_field ALTER COLUMN id SET DEFAULT nextval('public.promo_custom_field_id_seq'::regclass);


--
-- Name: promo_database id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_database ALTER COLUMN id SET DEFAULT nextval('public.promo_database_id_seq'::regclass);


--
-- Name: promo_loyalty_program id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_loyalty_program ALTER COLUMN id SET DEFAULT nextval('public.promo_loyalty_program_id_seq'::regclass);


--
-- Name: promo_profile id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile ALTER COLUMN id SET DEFAULT nextval('public.promo_profile_id_seq'::regclass);


--
-- Data for Name: promo_admin_user; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_admin_user VALUES (1, 'merchant', 'scrypt:32768:8:1$trh41TnwrrBbabj9$6d73a8d51828a8f8ed79f35ba3b77f0ee029838bc21187f53c883535858034978ec64785ec5201c4fe4a3f5d0884f8f1648d283490e6801a84bf553f65806cca', '2026-12-01 23:24:28.126724');


--
-- Data for Name: promo_api_token; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_api_token VALUES (1, 'website', 'd73db2f650f296e5627ddc6d45d6ce6c8bb06d7dff824a0b1c515f019c5f11a5', '2026-12-01 23:24:27.776898', NULL);
INSERT INTO public.promo_api_token VALUES (2, 'other only', '0a87ffaaa4717b162e1a934b25f1e301b2673dd8561871d6b3be545617111e59', '2026-12-01 23:24:27.808209', NULL);
INSERT INTO public.promo_api_token VALUES (3, 'old website', '36eb0017fdc5444d202ca48b19ccaaf7b79cbc26686efcaf5ba4a1b23042a649', '2026-12-01 23:24:27.848366', '2026-12-01 23:24:27.87947');


--
-- Data for Name: promo_api_token_scope; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_api_token_scope VALUES (2, 2);


--
-- Data for Name: promo_attachment; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_attachment VALUES (1, 1, 1, true, '2026-12-01 23:24:28.146067');
INSERT INTO public.promo_attachment VALUES (2, 2, 2, true, '2026-12-01 23:24:28.162064');
INSERT INTO public.promo_attachment VALUES (3, 21, 1, false, '2026-12-01 23:24:28.181247');
INSERT INTO public.promo_attachment VALUES (4, 21, 3, false, '2026-12-01 23:24:28.211592');


--
-- Data for Name: promo_code; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_code VALUES (3, 1, 'WELCOME-0003', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (4, 1, 'WELCOME-0004', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (5, 1, 'WELCOME-0005', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (6, 1, 'WELCOME-0006', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (7, 1, 'WELCOME-0007', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (8, 1, 'WELCOME-0008', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (9, 1, 'WELCOME-0009', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (10, 1, 'WELCOME-0010', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (11, 1, 'WELCOME-0011', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (12, 1, 'WELCOME-0012', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (13, 1, 'WELCOME-0013', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (14, 1, 'WELCOME-0014', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (15, 1, 'WELCOME-0015', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (16, 1, 'WELCOME-0016', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (17, 1, 'WELCOME-0017', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (18, 1, 'WELCOME-0018', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (19, 1, 'WELCOME-0019', false, true, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (21, 2, 'SUMMER', true, false, '2030-12-31 23:59:59', NULL, '2026-12-01 23:24:27.732933');
INSERT INTO public.promo_code VALUES (22, 2, 'OLD', true, false, '2020-01-01 23:59:59', NULL, '2026-12-01 23:24:27.732933');
INSERT INTO public.promo_code VALUES (2, 1, 'WELCOME-0002', false, false, NULL, NULL, '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (1, 1, 'WELCOME-0001', false, false, NULL, '2026-12-01 23:24:28.247487', '2026-12-01 23:24:27.680334');
INSERT INTO public.promo_code VALUES (20, 1, 'WELCOME-0020', false, true, '2031-01-01 00:00:00', NULL, '2026-12-01 23:24:27.680334');


--
-- Data for Name: promo_custom_field; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_custom_field VALUES (1, 1, 'card');


--
-- Data for Name: promo_database; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_database VALUES (1, 'Shop', '2026-12-01 23:24:27.121686');
INSERT INTO public.promo_database VALUES (2, 'Other shop', '2026-12-01 23:24:27.180022');


--
-- Data for Name: promo_loyalty_program; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_loyalty_program VALUES (1, 'Welcome 10%', false, '2026-12-01 23:24:27.506435');
INSERT INTO public.promo_loyalty_program VALUES (2, 'Summer sale', true, '2026-12-01 23:24:27.611045');


--
-- Data for Name: promo_profile; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_profile VALUES (1, '96e895490588d45c4525a3a8', 1, 'alice@example.com', 'alice@example.com', '+7 900 000-00-01', '+79000000001', '2026-12-01 23:24:27.242002');
INSERT INTO public.promo_profile VALUES (2, '59a61d45e733ddf0ffce50f3', 1, 'bob@example.com', 'bob@example.com', '+79000000002', '+79000000002', '2026-12-01 23:24:27.242019');
INSERT INTO public.promo_profile VALUES (3, '15320b12f24934f77dcfbbc2', 1, 'carol@example.com', 'carol@example.com', NULL, NULL, '2026-12-01 23:24:27.242023');


--
-- Data for Name: promo_profile_field; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.promo_profile_field VALUES (1, 1, '1001');
INSERT INTO public.promo_profile_field VALUES (3, 1, '3003');


--
-- Name: promo_admin_user_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_admin_user_id_seq', 1, true);


--
-- Name: promo_api_token_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_api_token_id_seq', 3, true);


--
-- Name: promo_attachment_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_attachment_id_seq', 4, true);


--
-- Name: promo_code_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_code_id_seq', 22, true);


--
-- Name: promo_custom_field_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_custom_field_id_seq', 1, true);


--
-- Name: promo_database_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_database_id_seq', 2, true);


--
-- Name: promo_loyalty_program_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_loyalty_program_id_seq', 2, true);


--
-- Name: promo_profile_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.promo_profile_id_seq', 3, true);


--
-- Name: promo_admin_user pk_promo_admin_user; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_admin_user
    ADD CONSTRAINT pk_promo_admin_user PRIMARY KEY (id);


--
-- Name: promo_api_token pk_promo_api_token; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token
    ADD CONSTRAINT pk_promo_api_token PRIMARY KEY (id);


--
-- Name: promo_api_token_scope pk_promo_api_token_scope; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token_scope
    ADD CONSTRAINT pk_promo_api_token_scope PRIMARY KEY (token_id, db_id);


--
-- Name: promo_attachment pk_promo_attachment; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_attachment
    ADD CONSTRAINT pk_promo_attachment PRIMARY KEY (id);


--
-- Name: promo_code pk_promo_code; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_code
    ADD CONSTRAINT pk_promo_code PRIMARY KEY (id);


--
-- Name: promo_custom_field pk_promo_custom_field; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_custom_field
    ADD CONSTRAINT pk_promo_custom_field PRIMARY KEY (id);


--
-- Name: promo_database pk_promo_database; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_database
    ADD CONSTRAINT pk_promo_database PRIMARY KEY (id);


--
-- Name: promo_loyalty_program pk_promo_loyalty_program; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_loyalty_program
    ADD CONSTRAINT pk_promo_loyalty_program PRIMARY KEY (id);


--
-- Name: promo_profile pk_promo_profile; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile
    ADD CONSTRAINT pk_promo_profile PRIMARY KEY (id);


--
-- Name: promo_profile_field pk_promo_profile_field; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile_field
    ADD CONSTRAINT pk_promo_profile_field PRIMARY KEY (profile_pk, field_id);


--
-- Name: promo_admin_user uq_promo_admin_user_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_admin_user
    ADD CONSTRAINT uq_promo_admin_user_name UNIQUE (name);


--
-- Name: promo_api_token uq_promo_api_token_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token
    ADD CONSTRAINT uq_promo_api_token_name UNIQUE (name);


--
-- Name: promo_api_token uq_promo_api_token_token_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token
    ADD CONSTRAINT uq_promo_api_token_token_hash UNIQUE (token_hash);


--
-- Name: promo_attachment uq_promo_attachment_code_id_profile_pk; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_attachment
    ADD CONSTRAINT uq_promo_attachment_code_id_profile_pk UNIQUE (code_id, profile_pk);


--
-- Name: promo_code uq_promo_code_loyalty_id_code; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_code
    ADD CONSTRAINT uq_promo_code_loyalty_id_code UNIQUE (loyalty_id, code);


--
-- Name: promo_custom_field uq_promo_custom_field_db_id_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_custom_field
    ADD CONSTRAINT uq_promo_custom_field_db_id_name UNIQUE (db_id, name);


--
-- Name: promo_database uq_promo_database_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_database
    ADD CONSTRAINT uq_promo_database_name UNIQUE (name);


--
-- Name: promo_profile uq_promo_profile_profile_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile
    ADD CONSTRAINT uq_promo_profile_profile_id UNIQUE (profile_id);


--
-- Name: ix_promo_attachment_profile; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_promo_attachment_profile ON public.promo_attachment USING btree (profile_pk);


--
-- Name: ix_promo_code_free; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_promo_code_free ON public.promo_code USING btree (loyalty_id, id) WHERE free;


--
-- Name: ix_promo_code_program; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_promo_code_program ON public.promo_code USING btree (loyalty_id, id);


--
-- Name: ix_promo_profile_email; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_promo_profile_email ON public.promo_profile USING btree (db_id, email_key);


--
-- Name: ix_promo_profile_field_lookup; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_promo_profile_field_lookup ON public.promo_profile_field USING btree (field_id, value);


--
-- Name: ix_promo_profile_phone; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_promo_profile_phone ON public.promo_profile USING btree (db_id, phone_key);


--
-- Name: uq_promo_attachment_personal; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX uq_promo_attachment_personal ON public.promo_attachment USING btree (code_id) WHERE personal;


--
-- Name: promo_api_token_scope fk_promo_api_token_scope_db_id_promo_database; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token_scope
    ADD CONSTRAINT fk_promo_api_token_scope_db_id_promo_database FOREIGN KEY (db_id) REFERENCES public.promo_database(id) ON DELETE CASCADE;


--
-- Name: promo_api_token_scope fk_promo_api_token_scope_token_id_promo_api_token; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_api_token_scope
    ADD CONSTRAINT fk_promo_api_token_scope_token_id_promo_api_token FOREIGN KEY (token_id) REFERENCES public.promo_api_token(id) ON DELETE CASCADE;


--
-- Name: promo_attachment fk_promo_attachment_code_id_promo_code; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_attachment
    ADD CONSTRAINT fk_promo_attachment_code_id_promo_code FOREIGN KEY (code_id) REFERENCES public.promo_code(id) ON DELETE CASCADE;


--
-- Name: promo_attachment fk_promo_attachment_profile_pk_promo_profile; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_attachment
    ADD CONSTRAINT fk_promo_attachment_profile_pk_promo_profile FOREIGN KEY (profile_pk) REFERENCES public.promo_profile(id) ON DELETE CASCADE;


--
-- Name: promo_code fk_promo_code_loyalty_id_promo_loyalty_program; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_code
    ADD CONSTRAINT fk_promo_code_loyalty_id_promo_loyalty_program FOREIGN KEY (loyalty_id) REFERENCES public.promo_loyalty_program(id) ON DELETE CASCADE;


--
-- Name: promo_custom_field fk_promo_custom_field_db_id_promo_database; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_custom_field
    ADD CONSTRAINT fk_promo_custom_field_db_id_promo_database FOREIGN KEY (db_id) REFERENCES public.promo_database(id) ON DELETE CASCADE;


--
-- Name: promo_profile fk_promo_profile_db_id_promo_database; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile
    ADD CONSTRAINT fk_promo_profile_db_id_promo_database FOREIGN KEY (db_id) REFERENCES public.promo_database(id) ON DELETE CASCADE;


--
-- Name: promo_profile_field fk_promo_profile_field_field_id_promo_custom_field; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile_field
    ADD CONSTRAINT fk_promo_profile_field_field_id_promo_custom_field FOREIGN KEY (field_id) REFERENCES public.promo_custom_field(id) ON DELETE CASCADE;


--
-- Name: promo_profile_field fk_promo_profile_field_profile_pk_promo_profile; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.promo_profile_field
    ADD CONSTRAINT fk_promo_profile_field_profile_pk_promo_profile FOREIGN KEY (profile_pk) REFERENCES public.promo_profile(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


